import { formatDuration, sleep, type Db, type DbSession, type Logger } from 'dbops/plugin'
import { buildRunning, cleanupAfterAbort, dropLeftovers, leftoversOf } from './leftover-drops.ts'
import type { ReindexOptions } from './options.ts'
import { pollProgress } from './progress.ts'
import { analyzeAfterRebuild, verify } from './after-rebuild.ts'
import { INDEX_STATE, qualified } from './sql.ts'
import { RETRYABLE, sqlState } from './sqlstate.ts'

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
  /** The rebuild's own session, with the rebuild's lock and statement timeouts. */
  session: DbSession
  options: ReindexOptions
  amcheckSchema: string | null
  signal: AbortSignal
  logger: Logger
  progress(text: string): void
}

type Target = { schema: string; table: string; index: string }

type IndexState = {
  index_oid: string
  relfilenode: string
  valid: boolean
  bytes: string
  table_oid: string
}

/** How a rebuild ended when it did not rebuild. */
type Stop = { status: 'skipped' | 'failed'; reason: string }

/** An outcome before anything happened: what `reindex:apply` reports for an index it did not start. */
export function notStarted(target: Target, reason?: string): RebuildOutcome {
  return {
    ...target,
    status: 'skipped',
    reason,
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
}

/**
 * One index: drop its leftovers, REINDEX INDEX CONCURRENTLY under lock_timeout with retries
 * and backoff, drop leftovers again, ANALYZE, measure, verify. A lock that never comes is a
 * skip (policy), anything else a failure. Aborting cancels the running statement and drops
 * the half-built index before the abort propagates.
 */
export async function rebuildIndex(
  rc: RebuildContext,
  target: Target,
  label: string,
): Promise<RebuildOutcome> {
  const started = Date.now()
  const outcome = notStarted(target)
  const finish = (status: RebuildOutcome['status'], reason?: string) =>
    Object.assign(outcome, { status, reason, durationMs: Date.now() - started })

  const before = await indexState(rc.db, target, rc.signal)
  if (!before) return finish('skipped', 'the index no longer exists')
  if (!before.valid) return finish('skipped', 'the index is invalid now')
  outcome.beforeBytes = Number(before.bytes)
  const tableOid = before.table_oid

  const busy = await buildRunning(rc.db, tableOid, rc.session.pid, rc.signal)
  if (busy)
    return finish(
      'skipped',
      `another index build is running on ${target.schema}.${target.table} (pid ${busy}); only one can run per table`,
    )
  if (rc.options.cleanLeftovers)
    outcome.leftoversDropped.push(...(await dropLeftovers(rc, target, tableOid)))

  const stop = await reindexWithRetries(rc, target, tableOid, label, outcome)
  if (stop) return finish(stop.status, stop.reason)

  await analyzeAfterRebuild(rc, target, outcome)
  const after = await indexState(rc.db, target, rc.signal)
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

/**
 * The attempts of one rebuild. Returns nothing once the index is rebuilt, or how it stopped:
 * failed on an error no retry helps, skipped when the retries ran out or a leftover that
 * another attempt would only add to could not be dropped.
 */
async function reindexWithRetries(
  rc: RebuildContext,
  target: Target,
  tableOid: string,
  label: string,
  outcome: RebuildOutcome,
): Promise<Stop | undefined> {
  const { options } = rc
  const display = `${target.schema}.${target.index}`
  let code: string | undefined
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    outcome.attempts = attempt
    const of = attempt > 1 ? ` (attempt ${attempt}/${options.attempts})` : ''
    const error = await reindexOnce(rc, target, tableOid, `${label} ${display}${of}`, outcome)
    if (error === undefined) return undefined
    // The swap may have happened before the error (only dropping the old index failed).
    const swapped = (await leftoversOf(rc.db, target, tableOid)).some((l) => l.kind === 'ccold')
    if (options.cleanLeftovers)
      outcome.leftoversDropped.push(...(await dropLeftovers(rc, target, tableOid)))
    if (swapped) {
      outcome.notes.push(
        'the rebuild finished but dropping the old index failed; its leftover was handled',
      )
      return undefined
    }
    code = sqlState(error)
    if (!code || !RETRYABLE.has(code))
      return {
        status: 'failed',
        reason: `REINDEX failed: ${(error as Error).message}${code ? ` (SQLSTATE ${code})` : ''}`,
      }
    const stuck = await leftoversOf(rc.db, target, tableOid)
    if (stuck.length) {
      // Another attempt would only add `_ccnew1`, `_ccnew2`...: stop while the blocker lasts.
      return {
        status: 'skipped',
        reason: `${describeRetryable(code)} (attempt ${attempt}/${options.attempts}), and its leftover ${stuck.map((l) => l.name).join(', ')} could not be dropped yet (something still holds the table); a later run drops it and retries`,
      }
    }
    if (attempt < options.attempts) await pauseBeforeRetry(rc, display, code, attempt)
  }
  return {
    status: 'skipped',
    reason: `${describeRetryable(code!)} on each of ${options.attempts} attempt(s) (lock_timeout ${formatDuration(options.lockTimeout)}); skipped, try again later`,
  }
}

/**
 * One REINDEX INDEX CONCURRENTLY with its progress shown; returns its error, if any. An abort
 * drops what the cancelled statement left, then propagates.
 */
async function reindexOnce(
  rc: RebuildContext,
  target: Target,
  tableOid: string,
  label: string,
  outcome: RebuildOutcome,
): Promise<unknown> {
  const poller = pollProgress(rc, label)
  const began = Date.now()
  try {
    await rc.session.query(
      `reindex index concurrently ${qualified(target.schema, target.index)}`,
      [],
      {
        signal: rc.signal,
      },
    )
    outcome.reindexMs = Date.now() - began
    return undefined
  } catch (error) {
    if (!rc.signal.aborted) return error
    await poller.stop()
    await cleanupAfterAbort(rc, target, tableOid)
    throw error
  } finally {
    await poller.stop()
  }
}

async function pauseBeforeRetry(
  rc: RebuildContext,
  display: string,
  code: string,
  attempt: number,
): Promise<void> {
  const { options } = rc
  const delay = options.retryDelays[Math.min(attempt - 1, options.retryDelays.length - 1)]!
  rc.progress(
    `${display}: ${describeRetryable(code)}; retrying in ${formatDuration(delay)} (attempt ${attempt + 1}/${options.attempts})`,
  )
  rc.logger.debug(`reindex ${display}: attempt ${attempt} failed (${code}); retrying in ${delay}ms`)
  await sleep(delay, rc.signal)
}

async function indexState(
  db: Db,
  target: { schema: string; index: string },
  signal: AbortSignal,
): Promise<IndexState | undefined> {
  return (await db.query<IndexState>(INDEX_STATE, [target.schema, target.index], { signal }))
    .rows[0]
}

function describeRetryable(code: string): string {
  if (code === '55P03') return 'a lock was not available within lock_timeout'
  if (code === '40P01') return 'a deadlock was detected'
  return 'the statement was cancelled (statement_timeout or pg_cancel_backend)'
}
