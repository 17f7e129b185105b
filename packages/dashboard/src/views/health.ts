import { meta, type ViewEnv } from './view-env.ts'

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
      const c = catalog.get(`${s.database}\u0000${s.check}`)
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
