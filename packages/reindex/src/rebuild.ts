import { formatDuration, sleep, type Db, type Logger } from 'dbops/plugin'
import { leftoverOf } from './leftovers.ts'
import type { ReindexOptions } from './options.ts'
import { RETRYABLE, sqlState, type MaintenanceSession } from './session.ts'
import {
  BT_INDEX_CHECK,
  BUILD_IN_PROGRESS,
  INDEX_STATE,
  INVALID_ON_TABLE,
  PROGRESS,
  qualified,
} from './sql.ts'

export interface RebuildOutcome {
  schema: string
  table: string
  index: string
  status: 'rebuilt' | 'skipped' | 'failed'
  /** Why it was skipped or failed. */
  reason?: string
  attempts: number
  beforeBytes: number | null
  afterBytes: number | null
  reclaimedBytes: number
  durationMs: number
  /** Time spent in the REINDEX statement of the successful attempt. */
  reindexMs: number
  /** amcheck's bt_index_check on the new index. */
  verified: 'ok' | 'corrupt' | 'error' | 'not-installed' | 'off' | null
  /** Leftovers of this index dropped before or after the rebuild. */
  leftoversDropped: string[]
  notes: string[]
}

export interface RebuildContext {
  db: Db
  session: MaintenanceSession
  options: ReindexOptions
  amcheckSchema: string | null
  signal: AbortSignal
  logger: Logger
  progress(text: string): void
}

type IndexState = {
  index_oid: string
  relfilenode: string
  valid: boolean
  bytes: string
  table_oid: string
}

/**
 * One index: drop its leftovers, REINDEX INDEX CONCURRENTLY under lock_timeout with retries
 * and backoff, drop leftovers again, ANALYZE, measure, verify. A lock that never comes is a
 * skip (policy), anything else a failure. Aborting cancels the running statement and drops
 * the half-built index before the abort propagates.
 */
export async function rebuildIndex(
  rc: RebuildContext,
  target: { schema: string; table: string; index: string },
  label: string,
): Promise<RebuildOutcome> {
  const { db, session, options, signal } = rc
  const started = Date.now()
  const name = qualified(target.schema, target.index)
  const display = `${target.schema}.${target.index}`
  const outcome: RebuildOutcome = {
    ...target,
    status: 'skipped',
    attempts: 0,
    beforeBytes: null,
    afterBytes: null,
    reclaimedBytes: 0,
    durationMs: 0,
    reindexMs: 0,
    verified: null,
    leftoversDropped: [],
    notes: [],
  }
  const finish = (status: RebuildOutcome['status'], reason?: string) =>
    Object.assign(outcome, { status, reason, durationMs: Date.now() - started })

  const before = await indexState(db, target, signal)
  if (!before) return finish('skipped', 'the index no longer exists')
  if (!before.valid) return finish('skipped', 'the index is invalid now')
  outcome.beforeBytes = Number(before.bytes)
  const tableOid = before.table_oid

  const busy = await buildRunning(db, tableOid, session.pid, signal)
  if (busy)
    return finish(
      'skipped',
      `another index build is running on ${target.schema}.${target.table} (pid ${busy}); only one can run per table`,
    )
  if (options.cleanLeftovers)
    outcome.leftoversDropped.push(...(await dropLeftovers(rc, target, tableOid)))

  let lastError: unknown
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    outcome.attempts = attempt
    const poller = pollProgress(
      rc,
      `${label} ${display}${attempt > 1 ? ` (attempt ${attempt}/${options.attempts})` : ''}`,
    )
    const began = Date.now()
    try {
      await session.query(`reindex index concurrently ${name}`, [], signal)
      outcome.reindexMs = Date.now() - began
      lastError = undefined
      break
    } catch (error) {
      lastError = error
      if (signal.aborted) {
        await poller.stop()
        await cleanupAfterAbort(rc, target, tableOid)
        throw error
      }
    } finally {
      await poller.stop()
    }
    // The swap may have happened before the error (only dropping the old index failed).
    const swapped = (await leftoversOf(rc, target, tableOid)).some((l) => l.kind === 'ccold')
    if (options.cleanLeftovers)
      outcome.leftoversDropped.push(...(await dropLeftovers(rc, target, tableOid)))
    if (swapped) {
      outcome.notes.push(
        'the rebuild finished but dropping the old index failed; its leftover was handled',
      )
      lastError = undefined
      break
    }
    const code = sqlState(lastError)
    if (!code || !RETRYABLE.has(code))
      return finish(
        'failed',
        `REINDEX failed: ${(lastError as Error).message}${code ? ` (SQLSTATE ${code})` : ''}`,
      )
    const stuck = await leftoversOf(rc, target, tableOid)
    if (stuck.length) {
      // Another attempt would only add `_ccnew1`, `_ccnew2`...: stop while the blocker lasts.
      return finish(
        'skipped',
        `${describeRetryable(code)} (attempt ${attempt}/${options.attempts}), and its leftover ${stuck.map((l) => l.name).join(', ')} could not be dropped yet (something still holds the table); a later run drops it and retries`,
      )
    }
    if (attempt < options.attempts) {
      const delay = options.retryDelays[Math.min(attempt - 1, options.retryDelays.length - 1)]!
      rc.progress(
        `${display}: ${describeRetryable(code)}; retrying in ${formatDuration(delay)} (attempt ${attempt + 1}/${options.attempts})`,
      )
      rc.logger.debug(
        `reindex ${display}: attempt ${attempt} failed (${code}); retrying in ${delay}ms`,
      )
      await sleep(delay, signal)
    }
  }
  if (lastError) {
    const code = sqlState(lastError)!
    return finish(
      'skipped',
      `${describeRetryable(code)} on each of ${options.attempts} attempt(s) (lock_timeout ${formatDuration(options.lockTimeout)}); skipped, try again later`,
    )
  }

  if (options.analyzeAfterRebuild) {
    try {
      await session.set({ lock_timeout: `${options.analyze.lockTimeout}` })
      await session.query(`analyze ${qualified(target.schema, target.table)}`, [], signal)
    } catch (error) {
      if (signal.aborted) throw error
      outcome.notes.push(`ANALYZE after the rebuild failed: ${(error as Error).message}`)
    } finally {
      await session.set({ lock_timeout: `${options.lockTimeout}` })
    }
  }
  const after = await indexState(db, target, signal)
  outcome.afterBytes = after ? Number(after.bytes) : null
  outcome.reclaimedBytes =
    outcome.afterBytes === null ? 0 : outcome.beforeBytes - outcome.afterBytes
  outcome.verified = await verify(rc, target)
  if (outcome.verified === 'corrupt')
    return finish(
      'failed',
      `amcheck bt_index_check reports the rebuilt index as corrupt: ${outcome.notes.at(-1) ?? ''}`,
    )
  return finish('rebuilt')
}

async function indexState(
  db: Db,
  target: { schema: string; index: string },
  signal: AbortSignal,
): Promise<IndexState | undefined> {
  return (await db.query<IndexState>(INDEX_STATE, [target.schema, target.index], { signal }))
    .rows[0]
}

async function buildRunning(
  db: Db,
  tableOid: string,
  ownPid: number,
  signal: AbortSignal,
): Promise<number | undefined> {
  return (await db.query<{ pid: number }>(BUILD_IN_PROGRESS, [tableOid, ownPid], { signal }))
    .rows[0]?.pid
}

async function leftoversOf(
  rc: RebuildContext,
  target: { schema: string; index: string },
  tableOid: string,
) {
  const { rows } = await rc.db.query<{ index_name: string }>(INVALID_ON_TABLE, [tableOid])
  return rows.flatMap((r) => {
    const owner = leftoverOf(r.index_name, [target.index])
    return owner ? [{ name: r.index_name, kind: owner.kind }] : []
  })
}

/** Drops the invalid `_ccnew`/`_ccold` leftovers of one index; returns the names dropped. */
export async function dropLeftovers(
  rc: Pick<RebuildContext, 'db' | 'session' | 'logger'>,
  target: { schema: string; index: string },
  tableOid: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const dropped: string[] = []
  const busy = await buildRunning(
    rc.db,
    tableOid,
    rc.session.pid,
    signal ?? new AbortController().signal,
  )
  if (busy) return dropped
  for (const leftover of await leftoversOf(rc as RebuildContext, target, tableOid)) {
    if (await dropIndex(rc, target.schema, leftover.name, signal))
      dropped.push(`${target.schema}.${leftover.name}`)
  }
  return dropped
}

export async function dropIndex(
  rc: Pick<RebuildContext, 'session' | 'logger'>,
  schema: string,
  index: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await rc.session.query(
      `drop index concurrently if exists ${qualified(schema, index)}`,
      [],
      signal,
    )
    return true
  } catch (error) {
    if (signal?.aborted) throw error
    rc.logger.warn(
      `could not drop the leftover index ${schema}.${index}: ${(error as Error).message}; it will be dropped by a later run`,
    )
    return false
  }
}

/** After an abort the statement is cancelled; drop what it left, within a bounded time. */
async function cleanupAfterAbort(
  rc: RebuildContext,
  target: { schema: string; index: string },
  tableOid: string,
): Promise<void> {
  try {
    await rc.session.set({ statement_timeout: '30000', lock_timeout: '5000' })
    const dropped = await dropLeftovers(rc, target, tableOid)
    if (dropped.length) rc.logger.info(`interrupted: dropped the unfinished ${dropped.join(', ')}`)
  } catch (error) {
    rc.logger.warn(
      `interrupted: could not drop the leftovers of ${target.schema}.${target.index}: ${(error as Error).message}; the next run drops them`,
    )
  }
}

async function verify(
  rc: RebuildContext,
  target: { schema: string; index: string },
): Promise<RebuildOutcome['verified']> {
  if (!rc.options.verify.amcheck) return 'off'
  if (!rc.amcheckSchema) return 'not-installed'
  try {
    await rc.session.query(
      BT_INDEX_CHECK(rc.amcheckSchema),
      [qualified(target.schema, target.index), rc.options.verify.heapallindexed],
      rc.signal,
    )
    return 'ok'
  } catch (error) {
    if (rc.signal.aborted) throw error
    rc.logger.warn(`amcheck on ${target.schema}.${target.index}: ${(error as Error).message}`)
    return sqlState(error) === 'XX002' ? 'corrupt' : 'error'
  }
}

function describeRetryable(code: string): string {
  if (code === '55P03') return 'a lock was not available within lock_timeout'
  if (code === '40P01') return 'a deadlock was detected'
  return 'the statement was cancelled (statement_timeout or pg_cancel_backend)'
}

/** Shows pg_stat_progress_create_index of the rebuild session until stopped. */
function pollProgress(rc: RebuildContext, label: string): { stop(): Promise<void> } {
  let running = true
  const controller = new AbortController()
  const loop = (async () => {
    rc.progress(`${label}: starting`)
    while (running) {
      try {
        await sleep(500, controller.signal)
        const { rows } = await rc.db.query<ProgressRow>(PROGRESS, [rc.session.pid])
        if (rows[0] && running) rc.progress(`${label}: ${describeProgress(rows[0])}`)
      } catch {
        // stopped, or a poll failed: progress is best effort
      }
    }
  })()
  return {
    async stop() {
      running = false
      controller.abort()
      await loop
    },
  }
}

type ProgressRow = {
  phase: string
  blocks_total: string
  blocks_done: string
  tuples_total: string
  tuples_done: string
  lockers_total: string
  lockers_done: string
  current_locker_pid: string
}

export function describeProgress(p: ProgressRow): string {
  const n = (v: string) => Number(v)
  const parts = [p.phase]
  if (n(p.blocks_total) > 0)
    parts.push(
      `${Math.floor((100 * n(p.blocks_done)) / n(p.blocks_total))}% of ${n(p.blocks_total)} blocks`,
    )
  else if (n(p.tuples_total) > 0)
    parts.push(
      `${Math.floor((100 * n(p.tuples_done)) / n(p.tuples_total))}% of ${n(p.tuples_total)} tuples`,
    )
  if (n(p.lockers_total) > 0)
    parts.push(
      `waiting for ${n(p.lockers_done)}/${n(p.lockers_total)} transactions${n(p.current_locker_pid) ? ` (now pid ${p.current_locker_pid})` : ''}`,
    )
  return parts.join(', ')
}
