import type { Db } from '../db/db.ts'
import type { HttpSurfaceEnv } from '../plugin/http.ts'
import type { WatchMetrics } from './metrics.ts'
import type { Health } from './metrics-server.ts'

/** What `dbops watch` passes to the Watcher: its flags, and how to build and serve metrics. */
export interface WatchOptions {
  configFile?: string
  cwd?: string
  /** A run's lease: renewed every third of it; a run not renewed for this long is lost. */
  leaseMs: number
  /** After SIGTERM/SIGINT, how long running runs may take before they are aborted. */
  shutdownTimeoutMs: number
  /** Finished runs older than this are deleted from the history. */
  historyDays: number
  /** JSON log lines (default when stdout is not a TTY) or sentences. */
  json: boolean
  /** Called once the config is loaded, to build the metrics (see metrics.ts). */
  createMetrics?: (poolStats: () => ReturnType<Db['stats']>) => Promise<WatchMetrics>
  /** Starts the HTTP server of /metrics and /healthz (and a plugin surface); returns its closer. */
  serveMetrics?: (
    metrics: WatchMetrics,
    health: () => Health,
    loaded: Omit<HttpSurfaceEnv, 'host'>,
  ) => Promise<{ port: number; close(): Promise<void> }>
  notifyRetryDelaysMs?: number[]
}
