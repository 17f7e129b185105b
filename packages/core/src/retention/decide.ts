import { dateProblem, isoTime } from '../backup-set/dates.ts'
import type { RetentionPolicy } from '../config/schema.ts'

export interface RetentionCandidate {
  id: string
  startedAt: string
  verified: boolean
}

export interface RetentionDecision<C extends RetentionCandidate = RetentionCandidate> {
  keep: C[]
  delete: C[]
  /** Sets whose date cannot be trusted: neither kept nor deleted, and not counted for the others. */
  leftAlone: C[]
  /** Why each set is kept, deleted or left alone, by id. */
  why: Record<string, string>
}

const DAY = 86_400_000

/**
 * Which backup sets to keep. Pure: the same sets, policy and time give the same answer.
 * A set is kept when any rule keeps it: keep-last-N, a GFS slot (newest set of each of the
 * last N days/weeks/months), younger than maxAgeDays, the minimum count, or being the newest
 * verified set. Everything else is deleted. A set dated in the future or not dated at all
 * is left alone: it would otherwise be "the newest" and push real sets out of every slot.
 */
export function decideRetention<C extends RetentionCandidate>(
  sets: readonly C[],
  policy: RetentionPolicy,
  now: Date,
): RetentionDecision<C> {
  const untrusted = new Map<C, string>()
  for (const set of sets) {
    const problem = dateProblem(set.startedAt, now)
    if (problem) untrusted.set(set, problem)
  }
  const newest = sets
    .filter((s) => !untrusted.has(s))
    .sort((a, b) => isoTime(b.startedAt)! - isoTime(a.startedAt)!)
  const reasons = new Map<string, string[]>()
  const keepFor = (set: C, why: string) =>
    reasons.set(set.id, [...(reasons.get(set.id) ?? []), why])

  for (const [i, set] of newest.slice(0, policy.keepLast).entries())
    keepFor(set, `one of the last ${policy.keepLast} (#${i + 1})`)
  if (policy.maxAgeDays > 0) {
    for (const set of newest)
      if (now.getTime() - isoTime(set.startedAt)! < policy.maxAgeDays * DAY)
        keepFor(set, `younger than ${policy.maxAgeDays} days`)
  } else {
    for (const set of newest) keepFor(set, 'no maximum age')
  }
  if (policy.gfs) {
    for (const [period, count] of [
      ['daily', policy.gfs.daily],
      ['weekly', policy.gfs.weekly],
      ['monthly', policy.gfs.monthly],
    ] as const) {
      const slots = new Set<string>()
      for (const set of newest) {
        if (slots.size >= count) break
        const slot = periodKey(new Date(set.startedAt), period)
        if (slots.has(slot)) continue
        slots.add(slot)
        keepFor(set, `${period} ${slot}`)
      }
    }
  }
  const newestVerified = newest.find((s) => s.verified)
  if (newestVerified) keepFor(newestVerified, 'newest verified set')
  for (const set of newest) {
    if ([...reasons.keys()].length >= policy.minKeep) break
    if (!reasons.has(set.id)) keepFor(set, `minimum of ${policy.minKeep} sets`)
  }

  const decision: RetentionDecision<C> = { keep: [], delete: [], leftAlone: [], why: {} }
  for (const [set, problem] of untrusted) {
    decision.leftAlone.push(set)
    decision.why[set.id] = `left alone: startedAt ${problem}`
  }
  for (const set of newest) {
    const why = reasons.get(set.id)
    if (why) {
      decision.keep.push(set)
      decision.why[set.id] = `keep: ${why.join('; ')}`
    } else {
      decision.delete.push(set)
      decision.why[set.id] =
        `delete: older than ${policy.maxAgeDays} days and not kept by any other rule`
    }
  }
  return decision
}

function periodKey(at: Date, period: 'daily' | 'weekly' | 'monthly'): string {
  const iso = at.toISOString()
  if (period === 'daily') return iso.slice(0, 10)
  if (period === 'monthly') return iso.slice(0, 7)
  // ISO week: the Thursday of the week decides its year.
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()))
  const day = d.getUTCDay() || 7
  d.setUTCDate(d.getUTCDate() + 4 - day)
  const yearStart = Date.UTC(d.getUTCFullYear(), 0, 1)
  const week = Math.ceil(((d.getTime() - yearStart) / DAY + 1) / 7)
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`
}
