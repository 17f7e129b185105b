import { formatBytes, USER_SCHEMAS } from 'dbops/plugin'
import { z } from 'zod'
import { parseThreshold } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'

/**
 * Never-scanned indexes at least minSize large (from relpages: no size function, no lock),
 * that are not the primary key, unique or an exclusion constraint. pg_stat_get_numscans is
 * called directly: pg_stat_user_indexes is slow on huge catalogs.
 */
export const UNUSED_INDEXES_SQL = `
select i.indexrelid::regclass::text as index, i.indrelid::regclass::text as "table",
       c.relpages::bigint * current_setting('block_size')::int as bytes,
       exists (select 1 from pg_constraint f where f.contype = 'f' and f.conrelid = i.indrelid
                 and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(f.conkey)] @> f.conkey) as supports_fk,
       count(*) over ()::int as total
from pg_index i
join pg_class c on c.oid = i.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where ${USER_SCHEMAS} and i.indisvalid and not i.indisunique and not i.indisprimary and not i.indisexclusion
  and c.relpages::bigint * current_setting('block_size')::int >= $1
  and pg_stat_get_numscans(i.indexrelid) = 0
order by c.relpages desc
limit $2`

export const STATS_AGE_SQL = `
select extract(epoch from now() - stats_reset)::float8 as seconds, stats_reset from pg_stat_database where datname = current_database()`

export const unusedIndexesCheck = defineCheck({
  id: 'unused_indexes',
  title: 'unused indexes',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source:
    'pghero: idx_scan = 0, non-unique, >= 10 MB; research goal G1: statistics older than 7 days',
  hint: 'Never scanned since the statistics were reset: check the replicas too (statistics are per server), then DROP INDEX CONCURRENTLY it. An index supporting a foreign key may still be worth keeping.',
  options: {
    minSize: z.union([z.number(), z.string()]).default('10MB'),
    /** Statistics younger than this cannot prove an index unused. */
    minStatsAge: z.union([z.number(), z.string()]).default('7d'),
  },
  run: async ({ sql, options, limit }) => {
    const minBytes = parseThreshold(options.minSize, 'bytes')
    const minAge = parseThreshold(options.minStatsAge, 'seconds')
    const [stats] = await sql(STATS_AGE_SQL)
    if (stats?.seconds !== null && stats?.seconds !== undefined && num(stats.seconds) < minAge) {
      return {
        value: null,
        status: 'ok',
        message: `statistics were reset ${Math.round(num(stats.seconds) / 3600)} h ago: too recent to call an index unused (minStatsAge ${options.minStatsAge})`,
      }
    }
    const rows = await sql(UNUSED_INDEXES_SQL, [minBytes, limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: String(r.index),
        value: 1,
        detail: `on ${r.table}, ${formatBytes(num(r.bytes))}, never scanned${r.supports_fk ? '; supports a foreign key' : ''}`,
      })),
      total,
      message: total
        ? `${total} index(es) of ${options.minSize} or more never scanned`
        : `no unused index of ${options.minSize} or more`,
    }
  },
})

/**
 * Large tables read mostly by sequential scans (pghero: index use < 95% with >= 10,000 rows).
 * The catalog estimate reltuples filters first, so stats functions run on few tables.
 */
export const SEQ_SCANS_SQL = `
with t as (
  select c.oid, c.reltuples, pg_stat_get_numscans(c.oid) as seq_scan,
         (select coalesce(sum(pg_stat_get_numscans(i.indexrelid)), 0) from pg_index i where i.indrelid = c.oid) as idx_scan
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'm') and ${USER_SCHEMAS} and c.reltuples >= $1
)
select oid::regclass::text as "table", reltuples::bigint as rows, seq_scan, idx_scan,
       (100.0 * idx_scan / nullif(seq_scan + idx_scan, 0))::float8 as index_pct,
       count(*) over ()::int as total
from t
where seq_scan + idx_scan > 0 and 100.0 * idx_scan / (seq_scan + idx_scan) < $2
order by seq_scan * reltuples desc
limit $3`

export const seqScansCheck = defineCheck({
  id: 'seq_scans',
  title: 'tables read mostly by sequential scans',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero: index usage < 95% on tables with >= 10,000 rows; any → warning',
  hint: 'Find the queries scanning these tables (slow_queries, pg_stat_statements) and add the index they need.',
  options: {
    minRows: z.number().nonnegative().default(10_000),
    minIndexUsePercent: z.number().min(0).max(100).default(95),
  },
  run: async ({ sql, options, limit }) => {
    const rows = await sql(SEQ_SCANS_SQL, [options.minRows, options.minIndexUsePercent, limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: String(r.table),
        value: 1,
        detail: `${num(r.rows).toLocaleString('en-US')} rows; ${num(r.index_pct).toFixed(1)}% of scans use an index (${r.seq_scan} sequential, ${r.idx_scan} index)`,
      })),
      total,
      message: total
        ? `${total} table(s) with ${options.minRows}+ rows mostly read by sequential scans`
        : 'large tables are read through indexes',
    }
  },
})
