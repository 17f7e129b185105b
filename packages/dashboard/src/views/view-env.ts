import type { ScheduleConfig } from 'dbops/plugin'
import type { DashboardState } from '../collect/state.ts'
import type { DashboardOptions } from '../options.ts'

/**
 * What every view reads: the collector's last state, the options and the config's
 * schedules. The server and the HTML report both call the views, so the page and the
 * report show the same.
 */
export interface ViewEnv {
  state: DashboardState
  options: DashboardOptions
  schedules: Record<string, ScheduleConfig>
  now?: Date
}

/** The part of every answer that says how fresh it is and which sources failed. */
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
