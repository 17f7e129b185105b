import { formatBytes, USER_SCHEMAS } from 'dbops/plugin'
import { z } from 'zod'
import { parseThreshold } from '../thresholds.ts'
import { defineCheck, num } from './_define.ts'
import { readIndexDefinitions } from './index-definition.ts'

/**
 * Invalid indexes, except ones a CREATE INDEX / REINDEX CONCURRENTLY is building right now
 * (pg_stat_progress_create_index names the index or, for REINDEX, its table).
 */
export const INVALID_INDEXES_SQL = `
select i.indexrelid::regclass::text as index, i.indrelid::regclass::text as "table", c.relname,
       c.relpages::bigint * current_setting('block_size')::int as bytes, i.indisunique,
       count(*) over ()::int as total
from pg_index i
join pg_class c on c.oid = i.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where not i.indisvalid and ${USER_SCHEMAS}
  and not exists (
    select 1 from pg_stat_progress_create_index p
    where p.index_relid = i.indexrelid
       or (p.relid = i.indrelid and p.command in ('CREATE INDEX CONCURRENTLY', 'REINDEX CONCURRENTLY')))
order by c.relpages desc
limit $1`

/** Where an invalid index comes from, by the names the server and pg_repack give them. */
export function invalidIndexOrigin(name: string): string {
  if (/_ccnew\d*$/.test(name))
    return 'left by a failed REINDEX CONCURRENTLY: drop it, then retry the reindex'
  if (/_ccold\d*$/.test(name))
    return 'old copy left by a REINDEX CONCURRENTLY whose swap succeeded: drop it'
  if (/^index_\d+$/.test(name)) return 'left by an interrupted pg_repack: drop it'
  return 'a failed CREATE INDEX CONCURRENTLY (or REINDEX): drop it and create it again'
}

export const invalidIndexesCheck = defineCheck({
  id: 'invalid_indexes',
  title: 'invalid indexes',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero / pgwatch: any invalid index (skipping ones being built now) → warning',
  hint: 'An invalid index is never used by queries but is still updated on every write. DROP INDEX CONCURRENTLY it, then rebuild it (CREATE INDEX CONCURRENTLY / REINDEX INDEX CONCURRENTLY).',
  run: async ({ sql, limit }) => {
    const rows = await sql(INVALID_INDEXES_SQL, [limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: String(r.index),
        value: 1,
        detail: `on ${r.table}${r.indisunique ? ' (unique: uniqueness is NOT enforced)' : ''}; ${invalidIndexOrigin(String(r.relname))}`,
      })),
      total,
      message: total
        ? `${total} invalid index(es): ${rows
            .map((r) => r.index)
            .slice(0, 3)
            .join(', ')}`
        : 'no invalid index',
    }
  },
})

/**
 * Indexes made redundant by another index of the same table (pghero's rule): both valid,
 * same access method, expressions and predicate; the redundant one's key columns and
 * operator classes are a leading prefix of the other's, and it is neither the primary key
 * nor a unique index the other does not replace. Exact twins: the newer one is reported.
 *
 * Catalogs only, so it never waits behind a migration's lock: expressions and predicates
 * are compared as their stored node trees (pg_get_expr would open the table), without the
 * `:location` fields, which only say where in its CREATE INDEX statement each one was typed.
 */
export const DUPLICATE_INDEXES_SQL = `
with idx as (
  select i.indexrelid, i.indrelid, i.indkey::text as keys, i.indclass::text as ops, i.indcollation::text as colls,
         i.indnkeyatts, i.indnatts, i.indisunique, i.indisprimary, c.relam, c.relpages,
         coalesce(regexp_replace(i.indexprs::text, ' :location -?[0-9]+', '', 'g'), '') as exprs,
         coalesce(regexp_replace(i.indpred::text, ' :location -?[0-9]+', '', 'g'), '') as pred
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_namespace n on n.oid = c.relnamespace
  where i.indisvalid and ${USER_SCHEMAS}
), pairs as (
  select a.indexrelid as redundant, b.indexrelid as covering, a.relpages, a.keys = b.keys as exact,
         row_number() over (partition by a.indexrelid order by b.indisprimary desc, b.indisunique desc, b.indexrelid) as rn
  from idx a
  join idx b on a.indrelid = b.indrelid and a.indexrelid <> b.indexrelid and a.relam = b.relam
            and a.exprs = b.exprs and a.pred = b.pred
  where a.indnkeyatts = a.indnatts
    and (b.keys = a.keys or b.keys like a.keys || ' %')
    and (b.ops = a.ops or b.ops like a.ops || ' %')
    and (b.colls = a.colls or b.colls like a.colls || ' %')
    and not a.indisprimary
    and (not a.indisunique or (b.indisunique and a.keys = b.keys))
    and (a.keys <> b.keys or b.indisprimary or (b.indisunique and not a.indisunique)
         or (a.indisunique = b.indisunique and a.indexrelid > b.indexrelid))
)
select redundant::regclass::text as index, covering::regclass::text as covered_by, covering::int8::text as covering_oid, exact,
       relpages::bigint * current_setting('block_size')::int as bytes,
       count(*) over ()::int as total
from pairs where rn = 1
order by relpages desc
limit $1`

export const duplicateIndexesCheck = defineCheck({
  id: 'duplicate_indexes',
  title: 'duplicate and redundant indexes',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero duplicate_indexes (prefix rule); pg-index-health; any → warning',
  hint: 'The listed index is covered by the other one: DROP INDEX CONCURRENTLY it (check it is not referenced by name in hints or constraints first).',
  run: async (check) => {
    const rows = await check.sql(DUPLICATE_INDEXES_SQL, [check.limit])
    const total = num(rows[0]?.total)
    const definitions = await readIndexDefinitions(check, [
      ...new Set(rows.map((r) => String(r.covering_oid))),
    ])
    return {
      value: total,
      findings: rows.map((r) => {
        const covering = definitions.get(String(r.covering_oid))
        const withheld = covering?.withheld ? `; ${covering.withheld}` : ''
        return {
          object: String(r.index),
          value: 1,
          detail: `${r.exact ? 'same columns as' : 'a prefix of'} ${r.covered_by} (${covering?.text ?? '?'}); ${formatBytes(num(r.bytes))} to reclaim${withheld}`,
        }
      }),
      total,
      message: total
        ? `${total} redundant index(es): ${rows
            .map((r) => `${r.index} (covered by ${r.covered_by})`)
            .slice(0, 3)
            .join(', ')}`
        : 'no redundant index',
    }
  },
})

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
 * Foreign keys whose columns are not the leading columns of any valid, non-partial index
 * of the referencing table: deleting or updating a parent row scans the whole child table.
 */
export const FK_WITHOUT_INDEX_SQL = `
select f.conrelid::regclass::text as "table", f.conname, f.confrelid::regclass::text as parent,
       (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
          from unnest(f.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) as columns,
       c.reltuples::bigint as rows,
       count(*) over ()::int as total
from pg_constraint f
join pg_class c on c.oid = f.conrelid
join pg_namespace n on n.oid = c.relnamespace
where f.contype = 'f' and ${USER_SCHEMAS} and greatest(c.reltuples, 0) >= $1
  and not exists (
    select 1 from pg_index i
    where i.indrelid = f.conrelid and i.indisvalid and i.indpred is null
      and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(f.conkey)] @> f.conkey)
order by c.reltuples desc
limit $2`

export const fkWithoutIndexCheck = defineCheck({
  id: 'fk_without_index',
  title: 'foreign keys without an index',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pg-index-health foreign_keys_without_index; postgres-checkup H003; any → warning',
  hint: 'CREATE INDEX CONCURRENTLY ON <table> (<columns>): without it, every delete or key update of the parent scans the child table.',
  options: { minRows: z.number().nonnegative().default(0) },
  run: async ({ sql, options, limit }) => {
    const rows = await sql(FK_WITHOUT_INDEX_SQL, [options.minRows, limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: `${r.table}.${r.conname}`,
        value: 1,
        detail: `(${r.columns}) references ${r.parent}; suggested: CREATE INDEX CONCURRENTLY ON ${r.table} (${r.columns})`,
      })),
      total,
      message: total
        ? `${total} foreign key(s) without a supporting index: ${rows
            .map((r) => `${r.table}(${r.columns})`)
            .slice(0, 3)
            .join(', ')}`
        : 'every foreign key has an index',
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
