import { USER_SCHEMAS } from 'dbops/plugin'
import { listingFloor } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'

/**
 * Tables autovacuum should have processed (dead tuples, or rows changed since ANALYZE, past
 * the server's threshold + scale factor × reltuples) and how long ago it last did. Stats
 * functions are called directly on pg_class: pg_stat_user_tables is slow on huge catalogs.
 */
export const MAINTENANCE_DUE_SQL = (kind: 'vacuum' | 'analyze') => {
  const counter =
    kind === 'vacuum' ? 'pg_stat_get_dead_tuples(c.oid)' : 'pg_stat_get_mod_since_analyze(c.oid)'
  const last =
    kind === 'vacuum'
      ? 'greatest(pg_stat_get_last_vacuum_time(c.oid), pg_stat_get_last_autovacuum_time(c.oid))'
      : 'greatest(pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid))'
  return `
with due as (
  select c.oid, c.reltuples, ${counter} as pending, ${last} as last_time
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'm') and ${USER_SCHEMAS}
    and ${counter} > current_setting('autovacuum_${kind}_threshold')::float8
                      + current_setting('autovacuum_${kind}_scale_factor')::float8 * greatest(c.reltuples, 0)
), aged as (
  select due.*, extract(epoch from now() - coalesce(last_time,
           (select coalesce(stats_reset, pg_postmaster_start_time()) from pg_stat_database where datname = current_database())))::float8 as seconds
  from due
)
select oid::regclass::text as "table", pending::bigint as pending, greatest(reltuples, 0)::bigint as rows, last_time, seconds,
       count(*) over ()::int as total
from aged where seconds >= $1
order by seconds desc, pending desc
limit $2`
}

function maintenanceCheck(kind: 'vacuum' | 'analyze') {
  return defineCheck({
    id: kind,
    title: kind === 'vacuum' ? 'vacuum staleness and dead tuples' : 'analyze staleness',
    unit: 'seconds',
    defaults: { warning: 86_400, critical: 172_800 },
    source: `check_postgres last_${kind} / last_auto${kind}: 1 day / 2 days; postgres_exporter mixin: dead tuples past the autovacuum trigger`,
    hint:
      kind === 'vacuum'
        ? 'Autovacuum is not keeping up or is held back (long transactions, slots, prepared transactions): VACUUM (VERBOSE) the table and tune autovacuum_vacuum_cost_limit / per-table scale factors.'
        : 'Planner statistics are stale: ANALYZE the table; lower autovacuum_analyze_scale_factor for large tables.',
    run: async ({ sql, options, limit }) => {
      const floor = listingFloor(options.warning, options.critical) ?? 0
      const rows = await sql<{
        table: string
        pending: string
        rows: string
        last_time: Date | null
        seconds: number
        total: number
      }>(MAINTENANCE_DUE_SQL(kind), [floor, limit])
      const total = num(rows[0]?.total)
      const what = kind === 'vacuum' ? 'dead tuples' : 'rows changed since analyze'
      return {
        findings: rows.map((r) => ({
          object: String(r.table),
          value: num(r.seconds),
          detail: `${num(r.pending).toLocaleString('en-US')} ${what} (${num(r.rows).toLocaleString('en-US')} rows); last ${kind} ${r.last_time ? r.last_time.toISOString() : 'never'}`,
        })),
        total,
        message: total
          ? `${total} table(s) due for ${kind} and not ${kind === 'vacuum' ? 'vacuumed' : 'analyzed'} for a while`
          : `autovacuum keeps up (${kind})`,
      }
    },
  })
}

export const vacuumCheck = maintenanceCheck('vacuum')
export const analyzeCheck = maintenanceCheck('analyze')
