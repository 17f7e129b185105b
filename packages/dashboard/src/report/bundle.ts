import * as views from '../views/api.ts'

/** Detail pages a report carries: enough for evidence, bounded so a report of years stays a file one can mail. */
export const REPORT_LIMITS = { sets: 1000, runs: 2000 }

/** The runs path the page asks for (web/data.js `RUNS_PATH`). */
export const RUNS_PATH = 'api/runs?limit=20000'

/**
 * Every answer the page would fetch, by the path it fetches, computed once: the data of a
 * self-contained report. Backup sets and runs beyond the limits are listed without a detail page.
 */
export function reportBundle(env: views.ViewEnv): {
  data: Record<string, unknown>
  omitted: { sets: number; runs: number }
} {
  const data: Record<string, unknown> = {
    'api/overview': views.overview(env),
    'api/health': views.health(env),
    'api/health/history': views.healthHistory(env, {}),
    'api/backups': views.backups(env, { since: env.state.since }),
    [RUNS_PATH]: views.runs(env, { since: env.state.since, limit: 20_000 }),
    'api/reindex': views.reindex(env, {}),
    'api/migrations': views.migrations(env),
  }
  const sets = (data['api/backups'] as ReturnType<typeof views.backups>).sets
  for (const set of sets.slice(0, REPORT_LIMITS.sets))
    data[`api/backups/${encodeURIComponent(set.destination)}/${encodeURIComponent(set.id)}`] =
      views.backupSet(env, set.destination, set.id)
  const runs = (data[RUNS_PATH] as ReturnType<typeof views.runs>).runs
  const detailed = [
    ...runs.filter((r) => r.status !== 'success'),
    ...runs.filter((r) => r.status === 'success'),
  ].slice(0, REPORT_LIMITS.runs)
  for (const r of detailed) data[`api/runs/${encodeURIComponent(r.id)}`] = views.run(env, r.id)
  return {
    data,
    omitted: {
      sets: Math.max(0, sets.length - REPORT_LIMITS.sets),
      runs: Math.max(0, runs.length - REPORT_LIMITS.runs),
    },
  }
}
