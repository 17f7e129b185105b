import type { DashboardState } from '../collect/collector.ts'
import { scheduleRows } from '../collect/schedules.ts'
import type { BackupRow, CheckNow, RunRow, Status } from '../collect/types.ts'
import type { DashboardOptions } from '../options.ts'
import type { ScheduleConfig } from 'dbops/plugin'

/**
 * The JSON of each `/api/...` endpoint, computed from what the collector last read. The
 * server and the HTML report both call these, so the page and the report show the same.
 */
export interface ViewEnv {
  state: DashboardState
  options: DashboardOptions
  schedules: Record<string, ScheduleConfig>
  now?: Date
}

const SEVERITY: Record<string, number> = { ok: 0, skipped: -1, unknown: 1, warning: 2, critical: 3 }
const FAILED = new Set(['failed', 'lost', 'aborted'])

export function meta(env: ViewEnv) {
  const s = env.state
  const stale = (src: { at: string | null; error?: string }) => !!src.error || src.at === null
  return {
    generatedAt: (env.now ?? new Date()).toISOString(),
    refreshedAt: s.refreshedAt,
    since: s.since.toISOString(),
    target: s.target,
    database: s.database,
    sources: {
      runs: { ...s.sources.runs, stale: stale(s.sources.runs), recorded: s.runsRecorded },
      health: { ...s.sources.health, stale: stale(s.sources.health), recorded: s.health.recorded },
      migrations: {
        ...s.sources.migrations,
        stale: s.migrations !== null && stale(s.sources.migrations),
      },
      backups: Object.fromEntries(
        Object.entries(s.sources.backups).map(([name, src]) => [
          name,
          { ...src, stale: stale(src) },
        ]),
      ),
    },
    refreshSeconds: env.options.refreshSeconds,
  }
}

/** `/api/overview`: the "Now" view. */
export function overview(env: ViewEnv) {
  const now = (env.now ?? new Date()).getTime()
  const { state, options } = env
  const runs = sortedRuns(state)
  const checks = state.health.now
  const notOk = checks
    .filter((c) => c.status !== 'ok' && c.status !== 'skipped')
    .sort((a, b) => SEVERITY[b.status]! - SEVERITY[a.status]!)
  const worst = checks.reduce<Status>(
    (w, c) => (SEVERITY[c.status]! > SEVERITY[w]! ? (c.status as Status) : w),
    'ok',
  )
  const latestAt =
    checks
      .map((c) => c.at)
      .filter((a): a is string => !!a)
      .sort()
      .at(-1) ?? null
  const failuresSince = new Date(now - options.recentFailureDays * 86_400_000).toISOString()
  return {
    ...meta(env),
    health: checks.length
      ? {
          status: worst,
          at: latestAt,
          ageSeconds: latestAt ? Math.round((now - Date.parse(latestAt)) / 1000) : null,
          counts: countBy(checks.map((c) => c.status)),
          notOk,
          databases: [...new Set(checks.map((c) => c.database))],
        }
      : null,
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
        last: last ? strip(last) : null,
        runs: runs.filter((r) => r.schedule === s.name).length,
      }
    }),
    running: runs.filter((r) => r.status === 'running' || r.status === 'queued').map(strip),
    recentFailures: runs
      .filter((r) => FAILED.has(r.status) && r.queuedAt >= failuresSince)
      .slice(0, 20)
      .map(strip),
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

/** `/api/health`: each check's latest result. */
export function health(env: ViewEnv) {
  return { ...meta(env), checks: env.state.health.now }
}

/** `/api/health/history`: each check's value and status over time, in buckets. */
export function healthHistory(
  env: ViewEnv,
  query: { since?: Date; check?: string; database?: string },
) {
  const from = query.since ? query.since.getTime() / 1000 : -Infinity
  const catalog = new Map(env.state.health.now.map((c) => [`${c.database}\u0000${c.check}`, c]))
  const series = env.state.health.series
    .filter(
      (s) =>
        (!query.check || s.check === query.check) &&
        (!query.database || s.database === query.database),
    )
    .map((s) => {
      const first = s.t.findIndex((t) => t >= from)
      const start = first === -1 ? s.t.length : first
      const c = catalog.get(`${s.database}\u0000${s.check}`) as CheckNow | undefined
      return {
        ...s,
        t: s.t.slice(start),
        v: s.v.slice(start),
        s: s.s.slice(start),
        title: c?.title ?? s.check,
        unit: c?.unit ?? '',
        warning: c?.warning ?? null,
        critical: c?.critical ?? null,
        direction: c?.direction ?? 'above',
      }
    })
  return { ...meta(env), series }
}

/** `/api/backups`: every set, newest first, and the folders that are not sets. */
export function backups(
  env: ViewEnv,
  query: { since?: Date; database?: string; destination?: string },
) {
  const since = query.since?.toISOString() ?? ''
  const sets = allSets(env.state).filter(
    (r) =>
      r.startedAt >= since &&
      (!query.database || r.database === query.database) &&
      (!query.destination || r.destination === query.destination),
  )
  return {
    ...meta(env),
    sets,
    incomplete: [...env.state.backups.values()].flatMap((d) => d.incomplete),
  }
}

/** `/api/backups/:destination/:id`: the set's manifest (objects, checksums, tables, verifications). */
export function backupSet(env: ViewEnv, destination: string, id: string) {
  const found = env.state.backups.get(destination)?.sets.find((s) => s.row.id === id)
  if (!found) return undefined
  const copies = allSets(env.state)
    .filter((r) => r.id === id && r.database === found.row.database)
    .map((r) => ({
      destination: r.destination,
      location: r.location,
      prefix: r.prefix,
      lastVerification: r.lastVerification,
    }))
  return { ...meta(env), set: found.row, manifest: found.manifest, copies }
}

/** `/api/runs`: scheduled runs, newest first, without their steps. */
export function runs(
  env: ViewEnv,
  query: { since?: Date; schedule?: string; status?: string; limit?: number },
) {
  const since = query.since?.toISOString() ?? ''
  const rows = sortedRuns(env.state).filter(
    (r) =>
      r.queuedAt >= since &&
      (!query.schedule || r.schedule === query.schedule) &&
      (!query.status || r.status === query.status),
  )
  return {
    ...meta(env),
    total: rows.length,
    runs: rows.slice(0, query.limit ?? rows.length).map(strip),
  }
}

/** `/api/runs/:id`: one run with its steps. */
export function run(env: ViewEnv, id: string) {
  const found = env.state.runs.get(id)
  return found ? { ...meta(env), run: found } : undefined
}

/** `/api/reindex`: what each reindex run reclaimed (the figures its `reindex:apply` step recorded). */
export function reindex(env: ViewEnv, query: { since?: Date }) {
  const since = query.since?.toISOString() ?? ''
  const points = sortedRuns(env.state)
    .filter((r) => r.queuedAt >= since)
    .flatMap((r) =>
      (r.steps ?? [])
        .filter((s) => s.id === 'reindex:apply' && s.figures)
        .map((s) => ({
          runId: r.id,
          schedule: r.schedule,
          at: r.startedAt ?? r.queuedAt,
          status: s.status,
          reclaimedBytes: s.figures!.reclaimedBytes ?? 0,
          rebuilt: s.figures!.rebuilt ?? 0,
          failed: s.figures!.failed ?? 0,
        })),
    )
    .reverse()
  return {
    ...meta(env),
    runs: points,
    reclaimedBytes: points.reduce((n, p) => n + p.reclaimedBytes, 0),
  }
}

/** `/api/migrations`: applied, pending, drifted (from `dbops migrate status`). */
export function migrations(env: ViewEnv) {
  return { ...meta(env), migrations: env.state.migrations }
}

// Sorted once per read of the sources, not once per request.
const sorted = new WeakMap<DashboardState, { version: number; sets: BackupRow[]; runs: RunRow[] }>()

function derived(state: DashboardState) {
  let d = sorted.get(state)
  if (!d || d.version !== state.version) {
    d = {
      version: state.version,
      sets: [...state.backups.values()]
        .flatMap((b) => b.sets.map((s) => s.row))
        .sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
      runs: [...state.runs.values()].sort((a, b) => b.queuedAt.localeCompare(a.queuedAt)),
    }
    sorted.set(state, d)
  }
  return d
}

function allSets(state: DashboardState): BackupRow[] {
  return derived(state).sets
}

function sortedRuns(state: DashboardState): RunRow[] {
  return derived(state).runs
}

function strip(r: RunRow): Omit<RunRow, 'steps'> & { steps: number | null } {
  return { ...r, steps: r.steps?.length ?? null }
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) out[v] = (out[v] ?? 0) + 1
  return out
}
