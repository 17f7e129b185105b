import { z } from 'zod'
import { formatBytes, listingFloor } from '../thresholds.ts'
import { USER_SCHEMA, defineCheck, num } from './_define.ts'

/**
 * Column statistics as (relid, attnum, null_frac, avg_width). A superuser reads
 * pg_statistic directly (the security-barrier view pg_stats is far slower on big
 * catalogs); other roles go through pg_stats, which only shows columns they may read:
 * missing rows make an estimate untrustworthy, and the check says so.
 */
/**
 * The summary both estimates end with, over a `judged` CTE of (object, tbl, has_stats, fresh,
 * bytes, wasted, pct): $1 minimum wasted bytes, $2 minimum percent, $3 how many to list.
 */
const SUMMARIZE_JUDGED = `select (select count(*) from judged)::int as candidates,
       (select count(*) from judged where not has_stats)::int as no_stats,
       (select min(object) from judged where not has_stats) as no_stats_example,
       (select count(*) from judged where has_stats and not fresh)::int as stale,
       (select min(object) from judged where has_stats and not fresh) as stale_example,
       (select max(wasted) from judged where has_stats and fresh and pct >= $2)::float8 as worst,
       (select count(*) from judged where has_stats and fresh and pct >= $2 and wasted >= $1)::int as over,
       (select json_agg(j) from (select * from judged where has_stats and fresh and pct >= $2 and wasted >= $1 order by wasted desc limit $3) j) as top`

export const STATS_FROM_PG_STATISTIC = `select starelid as relid, staattnum as attnum, stanullfrac::float8 as null_frac, stawidth::float8 as avg_width from pg_statistic where not stainherit`
export const STATS_FROM_PG_STATS = `
select c.oid as relid, a.attnum, s.null_frac::float8 as null_frac, s.avg_width::float8 as avg_width
from pg_stats s
join pg_namespace n on n.nspname = s.schemaname
join pg_class c on c.relnamespace = n.oid and c.relname = s.tablename
join pg_attribute a on a.attrelid = c.oid and a.attname = s.attname
where not s.inherited`

/**
 * Btree bloat estimate after ioguix/pgsql-bloat-estimation: expected pages from reltuples,
 * the average key width and null fraction, page and tuple overheads (MAXALIGN 8) and the
 * fillfactor; bloat = actual relpages - expected. Only indexes at least $1 bytes large.
 * An estimate is "trusted" when every key column has statistics and the table changed by
 * less than 20% since its last ANALYZE; the rest are counted, not guessed.
 */
export const INDEX_BLOAT_SQL = (stats: string) => `
with stats as (${stats}),
cand as (
  select i.indexrelid, i.indrelid, c.relpages::float8 as relpages, c.reltuples::float8 as reltuples, i.indnatts,
         coalesce(substring(array_to_string(c.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 90) as fillfactor,
         string_to_array(i.indkey::text, ' ')::int[] as keys, t.reltuples::float8 as table_rows
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_class t on t.oid = i.indrelid
  join pg_namespace n on n.oid = c.relnamespace
  where c.relam = (select oid from pg_am where amname = 'btree') and i.indisvalid and ${USER_SCHEMA()}
    and c.relpages::bigint * current_setting('block_size')::int >= $1
),
cols as (
  select cand.indexrelid, pos,
         case when cand.keys[pos] = 0 then cand.indexrelid else cand.indrelid end as srel,
         case when cand.keys[pos] = 0 then pos else cand.keys[pos] end as sattnum
  from cand, generate_series(1, cand.indnatts) pos
),
colstats as (
  select cols.indexrelid, count(*) as ncols, count(s.relid) as nstats,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) as datawidth,
         max(coalesce(s.null_frac, 0)) as maxnull
  from cols left join stats s on s.relid = cols.srel and s.attnum = cols.sattnum
  group by cols.indexrelid
),
est as (
  select cand.*, cs.ncols, cs.nstats,
         cand.reltuples >= 0 and cs.nstats = cs.ncols as has_stats,
         pg_stat_get_mod_since_analyze(cand.indrelid) <= 0.2 * greatest(cand.table_rows, 0) + 50 as fresh,
         -- IndexTupleData (8) + null bitmap when needed, MAXALIGNed; key data MAXALIGNed; ItemId 4
         ceil((8 + case when cs.maxnull > 0 then 4 else 0 end) / 8.0) * 8 + ceil(cs.datawidth / 8.0) * 8 + 4 as tuple_bytes
  from cand join colstats cs using (indexrelid)
),
bloat as (
  select est.*,
         1 + ceil(greatest(reltuples, 0) / floor((current_setting('block_size')::int - 24 - 16) * fillfactor / (100.0 * tuple_bytes))) as expected_pages
  from est
),
judged as (
  select indexrelid::regclass::text as object, indrelid::regclass::text as tbl, has_stats, fresh,
         relpages::bigint * current_setting('block_size')::int as bytes,
         greatest(relpages - expected_pages, 0)::bigint * current_setting('block_size')::int as wasted,
         (100 * greatest(relpages - expected_pages, 0) / relpages)::float8 as pct
  from bloat
)
${SUMMARIZE_JUDGED}`

/**
 * Heap bloat estimate (ioguix table_bloat idea): expected pages from reltuples and the
 * average row width (23-byte header + null bitmap, MAXALIGNed) at the table's fillfactor.
 * Catalog sizes only: no pg_relation_size, no lock on the table.
 */
export const TABLE_BLOAT_SQL = (stats: string) => `
with stats as (${stats}),
cand as (
  select c.oid, c.relpages::float8 as relpages, c.reltuples::float8 as reltuples,
         coalesce(substring(array_to_string(c.reloptions, ' ') from 'fillfactor=([0-9]+)')::int, 100) as fillfactor
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'm') and ${USER_SCHEMA()} and c.relpages::bigint * current_setting('block_size')::int >= $1
),
colstats as (
  select cand.oid, count(*) as ncols, count(s.relid) as nstats,
         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 1024)) as datawidth,
         max(coalesce(s.null_frac, 0)) as maxnull
  from cand
  join pg_attribute a on a.attrelid = cand.oid and a.attnum > 0 and not a.attisdropped
  left join stats s on s.relid = cand.oid and s.attnum = a.attnum
  group by cand.oid
),
est as (
  select cand.*, cs.ncols,
         cand.reltuples >= 0 and cs.nstats = cs.ncols as has_stats,
         pg_stat_get_mod_since_analyze(cand.oid) <= 0.2 * greatest(cand.reltuples, 0) + 50 as fresh,
         ceil((23 + case when cs.maxnull > 0 then ceil(cs.ncols / 8.0) else 0 end) / 8.0) * 8 + ceil(cs.datawidth / 8.0) * 8 + 4 as tuple_bytes
  from cand join colstats cs using (oid)
),
bloat as (
  select est.*, ceil(greatest(reltuples, 0) * tuple_bytes / ((current_setting('block_size')::int - 24) * fillfactor / 100.0)) as expected_pages
  from est
),
judged as (
  select oid::regclass::text as object, null::text as tbl, has_stats, fresh,
         relpages::bigint * current_setting('block_size')::int as bytes,
         greatest(relpages - expected_pages, 0)::bigint * current_setting('block_size')::int as wasted,
         (100 * greatest(relpages - expected_pages, 0) / relpages)::float8 as pct
  from bloat
)
${SUMMARIZE_JUDGED}`

function bloatCheck(kind: 'index' | 'table') {
  return defineCheck({
    id: `${kind}_bloat`,
    title: `${kind} bloat (estimate)`,
    unit: 'bytes',
    defaults: { warning: 100 * 1024 ** 2, critical: 1024 ** 3 },
    source: 'pghero index bloat: >= 100 MB wasted (warning); check_postgres bloat: 1 GB (critical here); pg_auto_reindexer: >= 30% bloat',
    hint: kind === 'index'
      ? 'REINDEX INDEX CONCURRENTLY the listed indexes (dbops reindex plugin). ANALYZE first if the table changed a lot: the estimate uses its statistics.'
      : 'Plain VACUUM makes the space reusable but does not shrink the file; to give it back use pg_repack or VACUUM FULL (ACCESS EXCLUSIVE lock). Check first that autovacuum keeps up (vacuum check).',
    options: { minPercent: z.number().min(0).max(100).default(30) },
    run: async ({ sql, options, limit, server }) => {
      const plural = kind === 'index' ? 'indexes' : 'tables'
      const floor = listingFloor(options.warning, options.critical) ?? 0
      const stats = server.superuser ? STATS_FROM_PG_STATISTIC : STATS_FROM_PG_STATS
      const [row] = await sql((kind === 'index' ? INDEX_BLOAT_SQL : TABLE_BLOAT_SQL)(stats), [floor, options.minPercent, limit])
      const top = (row?.top ?? []) as Record<string, any>[]
      const candidates = num(row?.candidates)
      const noStats = num(row?.no_stats)
      const stale = num(row?.stale)
      const notes = [
        noStats ? `${noStats} ${plural} not estimated: no statistics visible to ${server.user} (ANALYZE them, or grant SELECT), e.g. ${row!.no_stats_example}` : '',
        stale ? `${stale} ${plural} not estimated: statistics too stale (more than 20% of rows changed since ANALYZE), e.g. ${row!.stale_example}` : '',
      ].filter(Boolean)
      const trusted = candidates - noStats - stale
      const value = num(row?.worst)
      return {
        value,
        findings: top.map((r) => ({ object: String(r.object), value: num(r.wasted), detail: `${formatBytes(num(r.wasted))} of ${formatBytes(num(r.bytes))} wasted (${num(r.pct).toFixed(0)}%)${r.tbl ? ` on ${r.tbl}` : ''}` })),
        total: num(row?.over),
        message: candidates === 0
          ? `no ${kind} of ${formatBytes(floor)} or more`
          : `${trusted} of ${candidates} ${plural} of ${formatBytes(floor)}+ estimated; most wasted ${formatBytes(value)}${notes.length ? `; ${notes.join('; ')}` : ''}`,
        // Nothing could be estimated although there were candidates: say so rather than OK.
        ...(candidates > 0 && trusted === 0 ? { unknownReason: `no ${kind} bloat could be estimated` } : {}),
      }
    },
  })
}

export const indexBloatCheck = bloatCheck('index')
export const tableBloatCheck = bloatCheck('table')
