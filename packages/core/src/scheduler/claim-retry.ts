import type { Db } from '../db/db.ts'
import { sleep } from '../db/lock.ts'
import { type ClaimOutcome, claimTick, type TickClaim, type WatcherIdentity } from './claim.ts'
import type { TickOutcome } from './watch-events.ts'

/** A claim's outcome, or `missed`: the database stayed unreachable until the deadline (or a stop). */
export type ClaimResult = ClaimOutcome | { kind: 'missed'; error: unknown }

const CLAIM_BACKOFF_MS = [250, 500, 1000, 2000, 5000, 10_000, 30_000]

/**
 * Claims a tick, retrying with backoff while the database is unreachable: until `deadline`
 * (the schedule's following tick, see claimDeadline) or until `signal` aborts (the watcher
 * stops). A wait that would end past the deadline is not started: the tick is missed then.
 */
export async function claimWithRetry(
  db: Db,
  claim: TickClaim,
  me: WatcherIdentity,
  options: {
    deadline: number
    signal: AbortSignal
    /** Each attempt's outcome (undefined: it worked), for the watcher's database state. */
    record(error?: unknown): void
    now?: () => number
  },
): Promise<ClaimResult> {
  const now = options.now ?? Date.now
  for (let attempt = 0; ; attempt++) {
    try {
      const outcome = await claimTick(db, claim, me)
      options.record()
      return outcome
    } catch (error) {
      options.record(error)
      const wait = CLAIM_BACKOFF_MS[Math.min(attempt, CLAIM_BACKOFF_MS.length - 1)]!
      if (options.signal.aborted || now() + wait >= options.deadline)
        return { kind: 'missed', error }
      await sleep(wait, options.signal).catch(() => {})
    }
  }
}

/** How a claim ended, as the `tick:outcome` event (and the metric's label) says it. */
export function tickOutcomeOf(
  result: ClaimResult,
  at: { schedule: string; tick: Date; runId: string; overlap: string },
): TickOutcome {
  const { schedule, tick, runId } = at
  switch (result.kind) {
    case 'missed':
      return { schedule, tick, outcome: 'missed', error: result.error }
    case 'claimed-elsewhere':
      return { schedule, tick, outcome: 'claimed-elsewhere' }
    case 'busy':
      return {
        schedule,
        tick,
        outcome: 'skipped-overlap',
        behind: result.behind,
        overlap: at.overlap,
      }
    case 'queued':
      return { schedule, tick, outcome: 'queued', runId, behind: result.behind }
    case 'run':
      return { schedule, tick, outcome: 'ran', runId }
  }
}
