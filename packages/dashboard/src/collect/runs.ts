import { RUN_COLUMNS } from 'dbops/plugin'
import type pg from 'pg'
import type { RunRow, RunStep } from './types.ts'

export const RUNS_TABLE = `
select to_regclass('dbops.runs') is not null as exists,
       exists (select 1 from pg_attribute where attrelid = to_regclass('dbops.runs') and attname = 'steps' and not attisdropped) as has_steps`

/**
 * Runs queued in the window, newest first; when `changedAfter` is given only the ones that
 * may have changed since (new, ended since, or still active then). A run whose lease expired
 * reads as lost, as `dbops runs` shows it.
 */
export const RUNS = (hasSteps: boolean) => `
select ${RUN_COLUMNS}, ${hasSteps ? 'steps' : 'null::jsonb as steps'}
  from dbops.runs
 where queued_at >= $1
   and ($2::timestamptz is null or queued_at >= $2 or ended_at >= $2 or ended_at is null or id = any($3::uuid[]))
 order by queued_at desc
 limit $4`

const MAX_RUNS = 50_000

interface RunDbRow {
  id: string
  schedule: string
  tick: Date
  pipelines: string[]
  tags: string[]
  status: RunRow['status']
  queued_at: Date
  started_at: Date | null
  ended_at: Date | null
  duration_ms: number | null
  error: string | null
  host: string
  pid: number
  steps: RunStep[] | null
}

/** Reads runs into `known` (by id): all of the window the first time, then what changed. */
export async function readRuns(
  client: pg.ClientBase,
  known: Map<string, RunRow>,
  options: { since: Date; changedAfter: Date | null; scrub: (text: string) => string },
): Promise<boolean> {
  const table = (await client.query<{ exists: boolean; has_steps: boolean }>(RUNS_TABLE)).rows[0]
  if (!table?.exists) {
    known.clear()
    return false
  }
  const active = [...known.values()]
    .filter((r) => r.status === 'queued' || r.status === 'running')
    .map((r) => r.id)
  const changedAfter = options.changedAfter
    ? new Date(options.changedAfter.getTime() - 60_000)
    : null
  const { rows } = await client.query<RunDbRow>(RUNS(table.has_steps), [
    options.since,
    changedAfter,
    active,
    MAX_RUNS,
  ])
  if (!changedAfter) known.clear()
  for (const r of rows) known.set(r.id, toRun(r, options.scrub))
  const cutoff = options.since.toISOString()
  for (const [id, run] of known) if (run.queuedAt < cutoff) known.delete(id)
  return true
}

function toRun(r: RunDbRow, scrub: (text: string) => string): RunRow {
  return {
    id: r.id,
    schedule: r.schedule,
    pipelines: r.pipelines,
    tags: r.tags,
    status: r.status,
    tick: r.tick.toISOString(),
    queuedAt: r.queued_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
    durationMs: r.duration_ms,
    error: r.error === null ? null : scrub(r.error),
    host: r.host,
    pid: r.pid,
    steps: Array.isArray(r.steps)
      ? r.steps.map((s) => ({
          ...s,
          ...(s.error ? { error: scrub(s.error) } : {}),
          ...(s.summary ? { summary: scrub(s.summary) } : {}),
        }))
      : null,
  }
}
