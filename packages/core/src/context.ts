import type { ResolvedConfig } from './config/resolve.ts'
import type { Db } from './db/db.ts'
import type { Logger } from './logger.ts'
import type { StorageRegistry } from './storage/types.ts'

/** What every task and command receives. */
export interface Context {
  config: ResolvedConfig
  logger: Logger
  db: Db
  /** The configured destinations by name; a backup goes to each. */
  storage: StorageRegistry
  /** Aborts on SIGINT/SIGTERM or --timeout: pass it to every child process, query and upload. */
  signal: AbortSignal
  dryRun: boolean
  runId: string
  /** Tags of the run (from a schedule: daily, weekly); recorded in manifests. */
  tags: string[]
  /** Results of the tasks that already ran in this run, by task id. */
  results: Record<string, unknown>
}
