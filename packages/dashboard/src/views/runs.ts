import { sortedRuns, withoutSteps } from './sorted.ts'
import { meta, type ViewEnv } from './view-env.ts'

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
    runs: rows.slice(0, query.limit ?? rows.length).map(withoutSteps),
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
      (r.steps ?? []).flatMap((s) =>
        s.id === 'reindex:apply' && s.figures
          ? [
              {
                runId: r.id,
                schedule: r.schedule,
                at: r.startedAt ?? r.queuedAt,
                status: s.status,
                reclaimedBytes: s.figures.reclaimedBytes ?? 0,
                rebuilt: s.figures.rebuilt ?? 0,
                failed: s.figures.failed ?? 0,
              },
            ]
          : [],
      ),
    )
    .reverse()
  return {
    ...meta(env),
    runs: points,
    reclaimedBytes: points.reduce((n, p) => n + p.reclaimedBytes, 0),
  }
}
