// The one index bloat estimate of dbops: what `reindex:plan` decides on and what health's
// index_bloat check reports. One query gathers the inputs, `estimateIndex` turns a row into
// figures, so the two can never disagree.
import {
  distrustReason,
  estimateIndexBloat,
  type BloatFigures,
  type Distrust,
} from './btree-bloat.ts'

export { STALE_FRACTION, type BloatFigures, type Distrust } from './btree-bloat.ts'

/**
 * Column statistics as (relid, attnum, null_frac, avg_width, n_distinct). A superuser reads
 * pg_statistic directly (the security-barrier view pg_stats is far slower on big catalogs);
 * other roles go through pg_stats, which only shows columns they may read: a missing row makes
 * the estimate untrusted, and the caller says so.
 */
export const STATS_FROM_PG_STATISTIC = `select starelid as relid, staattnum as attnum, stanullfrac::float8 as null_frac, stawidth::float8 as avg_width, stadistinct::float8 as n_distinct
  from pg_statistic where not stainherit`
export const STATS_FROM_PG_STATS = `select c.oid as relid, a.attnum, s.null_frac::float8 as null_frac, s.avg_width::float8 as avg_width, s.n_distinct::float8 as n_distinct
  from pg_stats s
  join pg_namespace n on n.nspname = s.schemaname
  join pg_class c on c.relnamespace = n.oid and c.relname = s.tablename
  join pg_attribute a on a.attrelid = c.oid and a.attname = s.attname
 where not s.inherited`

/**
 * The SQL condition that keeps user schemas: not the system catalogs, TOAST (`pg_toast`,
 * `pg_toast_temp_N`) or temporary (`pg_temp_N`) schemas. `alias` names pg_namespace in the query.
 */
export const userSchemas = (alias = 'n') =>
  `${alias}.nspname not in ('pg_catalog', 'information_schema') and ${alias}.nspname !~ '^pg_(toast|temp_)'`

/** {@link userSchemas} with pg_namespace as `n`. */
export const USER_SCHEMAS = userSchemas('n')

/**
 * Whether a key column can be deduplicated: its operator family has an equalimage support
 * function (4) for its type, and its collation is deterministic. That is what nbtree's
 * `_bt_allequalimage` asks when an index is built; numeric, float, jsonb, arrays and
 * nondeterministic collations say no. pg_collation.collisdeterministic exists from 12 on, so
 * servers before 13 (no deduplication at all) get a constant.
 */
const EQUAL_IMAGE = (versionNum: number) =>
  versionNum < 130000
    ? 'false'
    : `x.indclass[k.pos - 1] in (select opc.oid from pg_opclass opc join pg_amproc p on p.amprocfamily = opc.opcfamily
                                  and p.amproclefttype = opc.opcintype and p.amprocrighttype = opc.opcintype and p.amprocnum = 4)
       and x.indcollation[k.pos - 1] not in (select oid from pg_collation where not collisdeterministic)`

/**
 * Every index of a user table ($1 schemas or null for all; $2 minimum size in bytes) with what
 * the estimate needs: catalog page and tuple counts (no pg_relation_size, no lock, no file
 * I/O), reloptions, and per column its width, null fraction and number of distinct values.
 * Only catalogs and statistics functions are read: no function here opens a relation, so a
 * table locked ACCESS EXCLUSIVE does not make this wait.
 */
export const LIST_INDEXES = (stats: string, versionNum: number) => `
with stats as (${stats}),
idx as (
  select i.indexrelid, i.indrelid, n.nspname as schema, ct.relname as table_name, ci.relname as index_name,
         am.amname as method, ci.relpages::bigint as relpages, ci.reltuples::float8 as reltuples,
         ct.relpages::bigint as table_pages, ct.reltuples::float8 as table_tuples,
         i.indisvalid as valid, i.indisunique as is_unique, ci.relpersistence = 't' as temporary,
         i.indnatts, i.indnkeyatts, i.indkey, i.indclass, i.indcollation, coalesce(ci.reloptions, '{}') as reloptions,
         exists (select 1 from pg_constraint c where c.conindid = i.indexrelid and c.contype = 'x') as exclusion,
         coalesce(pg_tablespace_location(nullif(ci.reltablespace, 0)), '') as tablespace_location
    from pg_index i
    join pg_class ci on ci.oid = i.indexrelid
    join pg_class ct on ct.oid = i.indrelid
    join pg_namespace n on n.oid = ct.relnamespace
    join pg_am am on am.oid = ci.relam
   where ci.relkind = 'i' and ct.relkind in ('r', 'm') and ${USER_SCHEMAS}
     and ($1::text[] is null or n.nspname = any($1::text[]))
     and ci.relpages::bigint * current_setting('block_size')::int >= $2::bigint
),
cols as (
  select x.indexrelid, k.pos <= x.indnkeyatts as is_key, s.relid is null as missing,
         coalesce(s.avg_width * (1 - s.null_frac), 0) as width, coalesce(s.null_frac, 0) as null_frac,
         -- distinct values of the column in the table; NULLs are deduplicated too: one more
         case when s.n_distinct > 0 then s.n_distinct when s.n_distinct < 0 then -s.n_distinct * greatest(x.table_tuples, 0) end
           + case when s.null_frac > 0 then 1 else 0 end as distinct_values,
         a.atttypid = 'pg_catalog.name'::regtype as is_name,
         ${EQUAL_IMAGE(versionNum)} as equal_image
    from idx x
    cross join lateral generate_series(1, x.indnatts) as k(pos)
    left join pg_attribute a on a.attrelid = case when x.indkey[k.pos - 1] = 0 then x.indexrelid else x.indrelid end
                            and a.attnum = case when x.indkey[k.pos - 1] = 0 then k.pos else x.indkey[k.pos - 1] end
    left join stats s on s.relid = a.attrelid and s.attnum = a.attnum
),
percol as (
  select indexrelid,
         sum(width)::float8 as data_width,
         max(null_frac) > 0 as has_nulls,
         bool_or(missing) as missing_stats,
         coalesce(bool_or(is_name), false) as has_name,
         coalesce(bool_and(equal_image) filter (where is_key), false) as equal_image,
         -- distinct keys if the columns were independent: never fewer than the real number
         exp(sum(ln(greatest(distinct_values, 1))) filter (where is_key))::float8 as distinct_keys,
         bool_or(distinct_values is null and not missing) filter (where is_key) as distinct_unknown
    from cols group by indexrelid
)
select x.indexrelid::int8 as index_oid, x.indrelid::int8 as table_oid, x.schema, x.table_name, x.index_name,
       x.indexrelid::regclass::text as index_regclass, x.indrelid::regclass::text as table_regclass,
       x.method, x.relpages, x.reltuples, x.table_pages, x.table_tuples, x.valid, x.is_unique, x.temporary,
       x.indnatts, x.indnkeyatts, x.reloptions, x.exclusion, x.tablespace_location,
       coalesce(c.data_width, 0) as data_width, coalesce(c.has_nulls, false) as has_nulls,
       coalesce(c.missing_stats, true) as missing_stats, coalesce(c.has_name, false) as has_name,
       coalesce(c.equal_image, false) as equal_image, c.distinct_keys, coalesce(c.distinct_unknown, false) as distinct_unknown,
       pg_stat_get_last_analyze_time(x.indrelid) is null and pg_stat_get_last_autoanalyze_time(x.indrelid) is null as never_analyzed,
       pg_stat_get_mod_since_analyze(x.indrelid)::float8 as modified_since_analyze,
       pg_stat_get_dead_tuples(x.indrelid)::float8 as dead_tuples
  from idx x
  left join percol c on c.indexrelid = x.indexrelid
 order by x.schema, x.table_name, x.index_name`

/** Which statistics source a role should read (see STATS_FROM_PG_STATISTIC). */
export function listIndexesSql(server: { superuser: boolean; versionNum: number }): string {
  return LIST_INDEXES(
    server.superuser ? STATS_FROM_PG_STATISTIC : STATS_FROM_PG_STATS,
    server.versionNum,
  )
}

/** One row of LIST_INDEXES. Big integers arrive as strings. */
export type IndexRow = {
  index_oid: string
  table_oid: string
  schema: string
  table_name: string
  index_name: string
  /** The index as `regclass` prints it: schema-qualified only when not on the search_path. */
  index_regclass: string
  table_regclass: string
  method: string
  relpages: string
  reltuples: number
  table_pages: string
  table_tuples: number
  valid: boolean
  is_unique: boolean
  temporary: boolean
  indnatts: number
  indnkeyatts: number
  reloptions: string[]
  exclusion: boolean
  tablespace_location: string
  data_width: number
  has_nulls: boolean
  missing_stats: boolean
  has_name: boolean
  equal_image: boolean
  distinct_keys: number | null
  distinct_unknown: boolean
  never_analyzed: boolean
  modified_since_analyze: number
  dead_tuples: number
}

/**
 * Below this many rows per key deduplication is not counted on: there is little to gain, and
 * ANALYZE's n_distinct of a column of mostly unique values errs low (measured: 1.6 rows per key
 * estimated for a real 1.5), which would make a fresh index look a few percent bloated.
 */
export const MIN_ROWS_PER_KEY = 1.5

export interface IndexEstimate {
  /** The figures to act on; null when the statistics do not allow an estimate. */
  trusted: BloatFigures | null
  /** The figures whatever the statistics (to pick tables worth an ANALYZE). */
  figures: BloatFigures
  /** The same index estimated without deduplication: one tuple per row. */
  withoutDedup: BloatFigures
  distrust: Distrust | null
  /** Rows per distinct key when the rebuilt index deduplicates them; null when it does not. */
  rowsPerKey: number | null
}

function reloption(row: IndexRow, name: string): string | undefined {
  const prefix = `${name}=`
  return row.reloptions.find((o) => o.startsWith(prefix))?.slice(prefix.length)
}

export function fillfactorOf(row: IndexRow): number {
  const value = Number(reloption(row, 'fillfactor'))
  return Number.isInteger(value) && value > 0 ? value : 90
}

/**
 * Whether REINDEX would deduplicate this index (nbtsort.c: allequalimage, not unique, the
 * `deduplicate_items` storage parameter on). A unique index is never deduplicated when built;
 * an index with INCLUDE columns never at all.
 */
export function deduplicates(row: IndexRow, versionNum: number): boolean {
  const option = reloption(row, 'deduplicate_items')
  const off = option !== undefined && /^(off|false|no|0)$/i.test(option)
  return (
    versionNum >= 130000 &&
    row.method === 'btree' &&
    !row.is_unique &&
    row.indnatts === row.indnkeyatts &&
    row.equal_image &&
    !off
  )
}

export function estimateIndex(
  row: IndexRow,
  server: { blockSize: number; versionNum: number },
): IndexEstimate {
  const input = {
    relpages: Number(row.relpages),
    reltuples: row.reltuples,
    blockSize: server.blockSize,
    fillfactor: fillfactorOf(row),
    dataWidth: row.data_width,
    hasNulls: row.has_nulls,
  }
  const withoutDedup = estimateIndexBloat(input)
  const keys =
    deduplicates(row, server.versionNum) &&
    !row.distinct_unknown &&
    row.distinct_keys !== null &&
    Number.isFinite(row.distinct_keys)
      ? Math.min(row.distinct_keys, Math.max(row.reltuples, 1))
      : null
  const rowsPerKey = keys === null || row.reltuples <= 0 ? null : row.reltuples / keys
  const figures =
    rowsPerKey !== null && rowsPerKey >= MIN_ROWS_PER_KEY
      ? estimateIndexBloat({ ...input, distinctKeys: keys! })
      : withoutDedup
  const distrust = distrustReason(row)
  return {
    trusted: distrust ? null : figures,
    figures,
    withoutDedup,
    distrust,
    rowsPerKey: figures === withoutDedup ? null : rowsPerKey,
  }
}
