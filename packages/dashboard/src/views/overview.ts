import type { DashboardState } from '../collect/state.ts'
import { scheduleRows } from '../collect/schedules.ts'
import type { BackupRow, CheckNow, Status } from '../collect/types.ts'
import type { DashboardOptions } from '../options.ts'
import { allSets, sortedRuns, withoutSteps } from './sorted.ts'
import { meta, type ViewEnv } from './view-env.ts'

const SEVERITY: Record<CheckNow['status'], number> = {
  skipped: -1,
  ok: 0,
  unknown: 1,
  warning: 2,
  critical: 3,
}
const FAILED = new Set(['failed', 'lost', 'aborted'])

/** `/api/overview`: the "Now" view. */
export function overview(env: ViewEnv) {
  const now = (env.now ?? new Date()).getTime()
  const { state, options } = env
  const runs = sortedRuns(state)
  const checks = state.health.now
  const failuresSince = new Date(now - options.recentFailureDays * 86_400_000).toISOString()
  return {
    ...meta(env),
    health: healthSummary(checks, now),
    lastBackups: lastBackups(state, options, now),
    databases: [
      ...new Set([...allSets(state).map((r) => r.database), ...checks.map((c) => c.database)]),
    ].sort(),
    schedules: scheduleRows(env.schedules, new Date(now)).map((s) => {
      const last = runs.find(
        (r) => r.schedule === s.name && r.status !== 'queued' && r.status !== 'running',
      )
      return {
        ...s,
        last: last ? withoutSteps(last) : null,
        runs: runs.filter((r) => r.schedule === s.name).length,
      }
    }),
    running: runs.filter((r) => r.status === 'running' || r.status === 'queued').map(withoutSteps),
    recentFailures: runs
      .filter((r) => FAILED.has(r.status) && r.queuedAt >= failuresSince)
      .slice(0, 20)
      .map(withoutSteps),
    incomplete: [...state.backups.values()].flatMap((d) => d.incomplete),
    migrations: state.migrations
      ? {
          status: state.migrations.status,
          applied: state.migrations.applied.length,
          pending: state.migrations.pending.length,
          drifted: state.migrations.drifted.length,
          missing: state.migrations.missing.length,
          partial: state.migrations.partial.length,
        }
      : null,
    thresholds: {
      restoreProofMaxAgeDays: options.restoreProofMaxAgeDays,
      backupMaxAgeHours: options.backupMaxAgeHours,
    },
  }
}

/** The health card: the worst status of the latest results, when they were taken, what is not OK. */
function healthSummary(checks: CheckNow[], now: number) {
  if (!checks.length) return null
  let worst: Status = 'ok'
  for (const c of checks)
    if (c.status !== 'skipped' && SEVERITY[c.status] > SEVERITY[worst]) worst = c.status
  const latestAt =
    checks
      .map((c) => c.at)
      .filter((a): a is string => !!a)
      .sort()
      .at(-1) ?? null
  return {
    status: worst,
    at: latestAt,
    ageSeconds: latestAt ? Math.round((now - Date.parse(latestAt)) / 1000) : null,
    counts: countBy(checks.map((c) => c.status)),
    notOk: checks
      .filter((c) => c.status !== 'ok' && c.status !== 'skipped')
      .sort((a, b) => SEVERITY[b.status] - SEVERITY[a.status]),
    databases: [...new Set(checks.map((c) => c.database))],
  }
}

/** The newest set of each database in each destination, with its age and the age of its last restore proof. */
function lastBackups(state: DashboardState, options: DashboardOptions, now: number) {
  const groups = new Map<string, BackupRow[]>()
  for (const r of allSets(state)) {
    const key = `${r.database}\u0000${r.destination}`
    groups.set(key, [...(groups.get(key) ?? []), r])
  }
  return [...groups.values()]
    .map((rows) => {
      const newest = rows[0]!
      const proof =
        rows
          .map((r) => r.restoreProvenAt)
          .filter((a): a is string => !!a)
          .sort()
          .at(-1) ?? null
      const age = Math.round((now - Date.parse(newest.finishedAt)) / 1000)
      const proofAge = proof ? Math.round((now - Date.parse(proof)) / 1000) : null
      return {
        ...newest,
        ageSeconds: age,
        stale: age > options.backupMaxAgeHours * 3600,
        sets: rows.length,
        lastRestoreProofAt: proof,
        restoreProofAgeSeconds: proofAge,
        restoreProofStale: proofAge === null || proofAge > options.restoreProofMaxAgeDays * 86_400,
      }
    })
    .sort(
      (a, b) => a.database.localeCompare(b.database) || a.destination.localeCompare(b.destination),
    )
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
