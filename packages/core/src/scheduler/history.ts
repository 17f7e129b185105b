import type { Db } from '../db/db.ts'
import * as SQL from './sql.ts'

/** One row of `dbops runs`: a scheduled run as the history table recorded it. */
export type RunRecord = {
  id: string
  schedule: string
  tick: Date
  pipelines: string[]
  tags: string[]
  /** `running`/`queued` rows whose lease expired read as `lost`. */
  status: 'queued' | 'running' | 'success' | 'failed' | 'aborted' | 'lost'
  queued_at: Date
  started_at: Date | null
  ended_at: Date | null
  duration_ms: number | null
  error: string | null
  host: string
  pid: number
  watcher: string
}

/** Recent runs, newest first; an empty list when no watcher ever ran against this database. */
export async function recentRuns(
  db: Db,
  options: { schedule?: string; limit: number },
): Promise<RunRecord[]> {
  const { rows } = await db.query<{ exists: boolean }>(SQL.HISTORY_EXISTS)
  if (!rows[0]?.exists) return []
  return (await db.query<RunRecord>(SQL.RECENT_RUNS, [options.schedule ?? null, options.limit]))
    .rows
}
