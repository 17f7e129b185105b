import type pg from 'pg'
import type { HealthState } from './state.ts'
import type { CheckNow, CheckSeries, Status } from './types.ts'

/**
 * Health history as `@dbops/health` records it (`dbops.health_results`, `dbops.health_checks`;
 * that package's README documents the tables). Read, never written, here.
 */
export const HEALTH_TABLES = `select to_regclass('dbops.health_results') is not null and to_regclass('dbops.health_checks') is not null as exists`

/** Cheap: tells whether a new run landed since the last read (the time index answers it). */
export const HEALTH_NEWEST = `select max(at) as newest, count(*) filter (where at >= now() - interval '1 hour')::int as recent from dbops.health_results`

/**
 * The latest result of every check of each database's latest run, with since when a non-OK
 * check has not been OK. Checks left out of the latest run (disabled since) are not listed.
 */
export const HEALTH_NOW = `
with latest_run as (select database, max(updated_at) as at from dbops.health_checks group by database)
select c.database, c.check_id, c.title, c.unit, c.direction, c.warning, c.critical, c.hint,
       r.at, coalesce(r.status, 'skipped') as status, r.value, r.message,
       case when r.status is not null and r.status <> 'ok' then
         (select min(h.at) from dbops.health_results h
           where h.database = c.database and h.check_id = c.check_id
             and h.at > coalesce((select max(o.at) from dbops.health_results o where o.database = c.database and o.check_id = c.check_id and o.status = 'ok'), '-infinity'))
       end as not_ok_since
  from dbops.health_checks c
  join latest_run l on l.database = c.database and l.at = c.updated_at
  left join lateral (
    select h.at, h.status, h.value, h.message from dbops.health_results h
     where h.database = c.database and h.check_id = c.check_id and h.at = c.updated_at
  ) r on true
 order by c.database, c.check_id`

/** Each check's history in time buckets: the worst value in the check's direction and the worst status. */
export const HEALTH_SERIES = `
select h.database, h.check_id,
       (floor(extract(epoch from h.at) / $2) * $2)::bigint as t,
       case when min(c.direction) = 'below' then min(h.value) else max(h.value) end as v,
       max(case h.status when 'critical' then 3 when 'warning' then 2 when 'unknown' then 1 else 0 end)::int as s
  from dbops.health_results h
  left join dbops.health_checks c on c.database = h.database and c.check_id = h.check_id
 where h.at >= $1
 group by 1, 2, 3
 order by 1, 2, 3`

/** Buckets per chart: as many points as a chart a few hundred pixels wide can show. */
export const SERIES_BUCKETS = 400

export async function readHealthNow(client: pg.ClientBase): Promise<CheckNow[]> {
  const { rows } = await client.query(HEALTH_NOW)
  return rows.map((r) => ({
    database: r.database,
    check: r.check_id,
    title: r.title,
    unit: r.unit,
    direction: r.direction === 'below' ? 'below' : 'above',
    warning: r.warning,
    critical: r.critical,
    hint: r.hint,
    at: r.at?.toISOString() ?? null,
    status: r.status as Status | 'skipped',
    value: r.value,
    message: r.message,
    notOkSince: r.not_ok_since?.toISOString() ?? null,
  }))
}

export async function readHealthSeries(client: pg.ClientBase, since: Date): Promise<CheckSeries[]> {
  const bucketSeconds = Math.max(
    60,
    Math.ceil((Date.now() - since.getTime()) / 1000 / SERIES_BUCKETS),
  )
  const { rows } = await client.query<{
    database: string
    check_id: string
    t: string
    v: number | null
    s: number
  }>(HEALTH_SERIES, [since, bucketSeconds])
  const out = new Map<string, CheckSeries>()
  for (const r of rows) {
    const key = `${r.database}\u0000${r.check_id}`
    let series = out.get(key)
    if (!series) {
      series = { database: r.database, check: r.check_id, t: [], v: [], s: [], bucketSeconds }
      out.set(key, series)
    }
    series.t.push(Number(r.t))
    series.v.push(r.v)
    series.s.push(r.s)
  }
  return [...out.values()]
}

/**
 * Reads the health history into `health`. The history changes only when a run lands, so
 * the latest results and the series are read again only then, or when `reread` says so (the
 * window moved, nothing was read yet). Returns whether they were read.
 */
export async function refreshHealth(
  client: pg.ClientBase,
  health: HealthState,
  options: { since: Date; reread: boolean; clean: (text: string) => string },
): Promise<boolean> {
  const exists = (await client.query<{ exists: boolean }>(HEALTH_TABLES)).rows[0]?.exists ?? false
  health.recorded = exists
  if (!exists) {
    health.now = []
    health.series = []
    health.newest = null
    return false
  }
  const { rows } = await client.query<{ newest: Date | null }>(HEALTH_NEWEST)
  const newest = rows[0]?.newest?.toISOString() ?? null
  if (newest === health.newest && !options.reread) return false
  health.now = (await readHealthNow(client)).map((c) => ({
    ...c,
    message: c.message === null ? null : options.clean(c.message),
  }))
  health.series = await readHealthSeries(client, options.since)
  health.newest = newest
  return true
}
