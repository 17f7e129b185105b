import type { WatchEvents } from '../watch-events.ts'

/** A schedule's dead-man's-switch ping: URL/start when a run starts, URL on success, URL/fail on a failure or a lost run. */
export function sendPings(events: WatchEvents): void {
  events.on('run:started', ({ notifier, ping }) => notifier.ping(ping, 'start'))
  events.on('run:finished', ({ notifier, ping, report, summary }) => {
    if (report.status === 'success') notifier.ping(ping, 'success', summary)
    if (report.status === 'failed') notifier.ping(ping, 'failure', summary)
  })
  events.on('run:lost', ({ notifier, ping }) => notifier.ping(ping, 'failure'))
}
