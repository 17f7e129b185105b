import type { Logger } from '../../logger.ts'
import type { WatchEvents } from '../watch-events.ts'
import { logRunEvents } from './log-runs.ts'
import { logWatcherEvents } from './log-watcher.ts'
import { sendPings } from './send-pings.ts'
import { sendWebhooks } from './send-webhooks.ts'

/**
 * What every watcher subscribes: its log, the config's webhooks and the schedules' pings, in
 * that order (a run's log line comes before its alerts). Metrics join when they are served
 * (`--metrics-port`); anything else can subscribe to `watcher.events` from outside.
 */
export function subscribeDefaults(events: WatchEvents, log: Logger): void {
  logWatcherEvents(events, log)
  logRunEvents(events, log)
  sendWebhooks(events)
  sendPings(events)
}
