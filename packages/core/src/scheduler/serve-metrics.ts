import { DbopsError, messageOf } from '../errors.ts'
import type { Logger } from '../logger.ts'
import type { LoadedConfig } from './loaded-config.ts'
import type { Health } from './metrics-server.ts'
import { recordMetrics } from './subscribers/record-metrics.ts'
import type { WatchEvents } from './watch-events.ts'
import type { WatchOptions } from './watch-options.ts'

/**
 * `--metrics-port`: builds the metrics, subscribes them to the watcher's events and serves
 * them (with /healthz and any plugin surface). Undefined without the flag. A port that cannot
 * be served is a usage error (exit 2), and the config loaded for it is closed.
 */
export async function serveMetrics(
  options: Pick<WatchOptions, 'createMetrics' | 'serveMetrics'>,
  watcher: {
    events: WatchEvents
    health(): Health
    log: Logger
    /** The config loaded at start; `current` is the one in effect (after reloads). */
    loaded: LoadedConfig
    current(): LoadedConfig
  },
): Promise<{ port: number; close(): Promise<void> } | undefined> {
  if (!options.createMetrics) return undefined
  const { loaded } = watcher
  const metrics = await options.createMetrics(() => watcher.current().base.db.stats())
  recordMetrics(watcher.events, metrics)
  try {
    return await options.serveMetrics?.(metrics, () => watcher.health(), {
      config: loaded.session.config,
      logger: watcher.log,
      secrets: loaded.session.secrets,
    })
  } catch (error) {
    await loaded.close()
    if (error instanceof DbopsError) throw error
    throw new DbopsError('WATCH_METRICS_PORT', `cannot serve metrics: ${messageOf(error)}`, {
      exitCode: 2,
      hint: 'Choose a free port for --metrics-port.',
    })
  }
}
