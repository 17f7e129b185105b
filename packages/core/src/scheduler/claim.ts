import type { Db } from '../db/db.ts'
import type { RecordedStep } from './run-steps.ts'
import * as SQL from './sql.ts'

/** Who runs a tick: written into the claim and the run history. */
export interface WatcherIdentity {
  id: string
  host: string
  pid: number
}

export type LostRun = {
  id: string
  schedule: string
  tick: Date
  pipelines: string[]
  host: string
  pid: number
  watcher: string
  started_at: Date | null
  ended_at: Date | null
  error: string
}

export type ClaimOutcome =
  /** This watcher owns the tick and its run is `running`. */
  | { kind: 'run'; runId: string; lost: LostRun[] }
  /** This watcher owns the tick; the run waits for the schedule's running one (overlap: queue). */
  | { kind: 'queued'; runId: string; lost: LostRun[]; behind: ActiveRun }
  /** Another watcher claimed this tick first. */
  | { kind: 'claimed-elsewhere'; lost: LostRun[] }
  /** This watcher owns the tick but the schedule is still running (overlap: skip, or the queue is full). */
  | { kind: 'busy'; lost: LostRun[]; behind: ActiveRun }

export type ActiveRun = {
  id: string
  status: 'queued' | 'running'
  host: string
  pid: number
  started_at: Date | null
  queued_at: Date
}

/** One tick of a schedule, as a watcher claims it. */
export interface TickClaim {
  schedule: string
  tick: Date
  pipelines: string[]
  tags: string[]
  overlap: 'skip' | 'queue'
  runId: string
  leaseMs: number
}

const schemaReady = new WeakSet<Db>()

/** Creates the `dbops` schema and tables if they are missing (once per Db). */
export async function ensureSchema(db: Db): Promise<void> {
  if (schemaReady.has(db)) return
  await db.query(SQL.CREATE_SCHEMA)
  schemaReady.add(db)
}

/**
 * Claims one tick of a schedule in one transaction, serialised per schedule: marks runs of
 * dead watchers lost, inserts the tick (`on conflict do nothing`: the first watcher wins),
 * and — for the winner — records the run as running, or queued/busy when the schedule's
 * previous run is still going, so a schedule never overlaps itself across watchers either.
 */
export async function claimTick(
  db: Db,
  claim: TickClaim,
  me: WatcherIdentity,
): Promise<ClaimOutcome> {
  await ensureSchema(db)
  return db.withClient(async (client) => {
    await client.query('begin')
    try {
      await client.query(SQL.LOCK_SCHEDULE, [claim.schedule])
      const lost = (await client.query<LostRun>(SQL.MARK_LOST, [claim.schedule])).rows
      const won =
        (await client.query(SQL.CLAIM_TICK, [claim.schedule, claim.tick, me.id])).rowCount === 1
      if (!won) {
        await client.query('commit')
        return { kind: 'claimed-elsewhere', lost }
      }
      const active = (await client.query<ActiveRun>(SQL.ACTIVE_RUNS, [claim.schedule])).rows
      let status: 'running' | 'queued' | undefined = 'running'
      if (active.length > 0)
        status =
          claim.overlap === 'queue' && active.every((r) => r.status === 'running')
            ? 'queued'
            : undefined
      if (status) {
        await client.query(SQL.INSERT_RUN, [
          claim.runId,
          claim.schedule,
          claim.tick,
          claim.pipelines,
          claim.tags,
          status,
          me.host,
          me.pid,
          me.id,
          claim.leaseMs,
        ])
      }
      await client.query('commit')
      if (!status) return { kind: 'busy', lost, behind: active[active.length - 1]! }
      return status === 'running'
        ? { kind: 'run', runId: claim.runId, lost }
        : { kind: 'queued', runId: claim.runId, lost, behind: active[0]! }
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  })
}

/** Starts a queued run if nothing of its schedule runs any more; true when it started. */
export async function startQueued(
  db: Db,
  schedule: string,
  runId: string,
  leaseMs: number,
): Promise<boolean> {
  return db.withClient(async (client) => {
    await client.query('begin')
    try {
      await client.query(SQL.LOCK_SCHEDULE, [schedule])
      await client.query(SQL.MARK_LOST, [schedule])
      const started = (await client.query(SQL.START_QUEUED, [runId, leaseMs])).rowCount === 1
      await client.query('commit')
      return started
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  })
}

export async function renewLeases(db: Db, runIds: string[], leaseMs: number): Promise<void> {
  if (runIds.length > 0) await db.query(SQL.RENEW_LEASES, [runIds, leaseMs])
}

export async function finishRun(
  db: Db,
  runId: string,
  status: 'success' | 'failed' | 'aborted',
  error: string | undefined,
  steps: RecordedStep[] = [],
): Promise<void> {
  await db.query(SQL.FINISH_RUN, [runId, status, error ?? null, JSON.stringify(steps)])
}

/** Marks runs of every schedule whose lease expired as lost; returns them. */
export async function markLost(db: Db): Promise<LostRun[]> {
  await ensureSchema(db)
  return (await db.query<LostRun>(SQL.MARK_LOST, [null])).rows
}

export async function previousOutcome(
  db: Db,
  schedule: string,
  runId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>(SQL.PREVIOUS_OUTCOME, [schedule, runId])
  return rows[0]?.status
}

export async function latestClaimedTick(db: Db, schedule: string): Promise<Date | undefined> {
  await ensureSchema(db)
  const { rows } = await db.query<{ tick: Date | null }>(SQL.LATEST_CLAIMED_TICK, [schedule])
  return rows[0]?.tick ?? undefined
}

export async function pruneHistory(db: Db, historyDays: number): Promise<void> {
  await db.query(SQL.PRUNE_TICKS)
  await db.query(SQL.PRUNE_RUNS, [historyDays])
}
