import { z } from 'zod'
import { listingFloor } from '../thresholds.ts'
import {
  estimateIndex,
  formatBytes,
  listIndexesSql,
  STALE_FRACTION,
  USER_SCHEMAS,
  STATS_FROM_PG_STATISTIC,
  STATS_FROM_PG_STATS,
  type IndexRow,
} from 'dbops/plugin'
import { defineCheck, num } from './define-check.ts'
import type { ServerInfo } from '../types.ts'

/**
 * The summary the table estimate ends with, over a `judged` CTE of (object, tbl, has_stats,
 * fresh, bytes, wasted, pct): $1 minimum wasted bytes, $2 minimum percent, $3 how many to list.
 * (Index bloat is summarized in `summarizeIndexes`, from the estimate @dbops/reindex plans with.)
 */
const SUMMARIZE_JUDGED = `select (select count(*) from judged)::int as candidates,
       (select count(*) from judged where not has_stats)::int as no_stats,
       (select min(object) from judged where not has_stats) as no_stats_example,
       (select count(*) from judged where has_stats and not fresh)::int as stale,
       (select min(object) from judged where has_stats and not fresh) as stale_example,
       (select max(wasted) from judged where has_stats and fresh and pct >= $2)::float8 as worst,
       (select count(*) from judged where has_stats and fresh and pct >= $2 and wasted >= $1)::int as over,
       (select json_agg(j) from (select * from judged where has_stats and fresh and pct >= $2 and wasted >= $1 order by wasted desc limit $3) j) as top`

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
  where c.relkind in ('r', 'm') and ${USER_SCHEMAS} and c.relpages::bigint * current_setting('block_size')::int >= $1
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
         pg_stat_get_mod_since_analyze(cand.oid) <= ${STALE_FRACTION} * greatest(cand.reltuples, 0) + 50 as fresh,
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

/** The summary row of SUMMARIZE_JUDGED, for indexes: from @dbops/reindex's estimate of each one. */
async function summarizeIndexes(
  sql: (text: string, params: unknown[]) => Promise<Record<string, unknown>[]>,
  server: ServerInfo,
  floor: number,
  minPercent: number,
  limit: number,
) {
  const rows = (await sql(listIndexesSql(server), [null, floor])) as IndexRow[]
  const judged = rows
    .filter((r) => r.method === 'btree' && r.valid && !r.temporary)
    .map((r) => ({ row: r, estimate: estimateIndex(r, server) }))
  const untrusted = (kind: string) =>
    judged
      .filter((j) => j.estimate.distrust?.kind === kind)
      .map((j) => j.row.index_regclass)
      .sort()
  const noStats = untrusted('no-statistics')
  const stale = untrusted('stale')
  const unmeasured = untrusted('unmeasured')
  const trusted = judged.flatMap(({ row, estimate }) =>
    estimate.trusted ? [{ row, f: estimate.trusted, rowsPerKey: estimate.rowsPerKey }] : [],
  )
  const listed = trusted.filter((t) => t.f.bloatPercent >= minPercent)
  const over = listed
    .filter((t) => t.f.bloatBytes >= floor)
    .sort(
      (a, b) =>
        b.f.bloatBytes - a.f.bloatBytes || a.row.index_regclass.localeCompare(b.row.index_regclass),
    )
  return {
    candidates: judged.length,
    no_stats: noStats.length + unmeasured.length,
    no_stats_example: noStats[0] ?? unmeasured[0],
    stale: stale.length,
    stale_example: stale[0],
    worst: listed.length ? Math.max(...listed.map((t) => t.f.bloatBytes)) : null,
    over: over.length,
    top: over.slice(0, limit).map((t) => ({
      object: t.row.index_regclass,
      tbl: t.row.table_regclass,
      bytes: t.f.sizeBytes,
      wasted: t.f.bloatBytes,
      pct: t.f.bloatPercent,
      dedup: t.rowsPerKey,
    })),
  }
}

function bloatCheck(kind: 'index' | 'table') {
  return defineCheck({
    id: `${kind}_bloat`,
    title: `${kind} bloat (estimate)`,
    unit: 'bytes',
    defaults: { warning: 100 * 1024 ** 2, critical: 1024 ** 3 },
    source:
      'pghero index bloat: >= 100 MB wasted (warning); check_postgres bloat: 1 GB (critical here); pg_auto_reindexer: >= 30% bloat',
    hint:
      kind === 'index'
        ? 'REINDEX INDEX CONCURRENTLY the listed indexes (dbops reindex plugin). ANALYZE first if the table changed a lot: the estimate uses its statistics.'
        : 'Plain VACUUM makes the space reusable but does not shrink the file; to give it back use pg_repack or VACUUM FULL (ACCESS EXCLUSIVE lock). Check first that autovacuum keeps up (vacuum check).',
    options: { minPercent: z.number().min(0).max(100).default(30) },
    run: async ({ sql, options, limit, server }) => {
      const plural = kind === 'index' ? 'indexes' : 'tables'
      const floor = listingFloor(options.warning, options.critical) ?? 0
      const stats = server.superuser ? STATS_FROM_PG_STATISTIC : STATS_FROM_PG_STATS
      const row =
        kind === 'index'
          ? await summarizeIndexes(sql, server, floor, options.minPercent, limit)
          : (await sql(TABLE_BLOAT_SQL(stats), [floor, options.minPercent, limit]))[0]
      const top = (row?.top ?? []) as Record<string, unknown>[]
      const candidates = num(row?.candidates)
      const noStats = num(row?.no_stats)
      const stale = num(row?.stale)
      const notes = [
        noStats
          ? `${noStats} ${plural} not estimated: no statistics visible to ${server.user} (ANALYZE them, or grant SELECT), e.g. ${row!.no_stats_example}`
          : '',
        stale
          ? `${stale} ${plural} not estimated: statistics too stale (more than ${100 * STALE_FRACTION}% of rows changed since ANALYZE), e.g. ${row!.stale_example}`
          : '',
      ].filter(Boolean)
      const trusted = candidates - noStats - stale
      const value = num(row?.worst)
      const dedup = (r: Record<string, unknown>) =>
        r.dedup ? `; deduplicated when rebuilt, ~${Math.round(num(r.dedup))} rows per key` : ''
      return {
        value,
        findings: top.map((r) => ({
          object: String(r.object),
          value: num(r.wasted),
          detail: `${formatBytes(num(r.wasted))} of ${formatBytes(num(r.bytes))} wasted (${num(r.pct).toFixed(0)}%)${r.tbl ? ` on ${r.tbl}` : ''}${dedup(r)}`,
        })),
        total: num(row?.over),
        message:
          candidates === 0
            ? `no ${kind} of ${formatBytes(floor)} or more`
            : `${trusted} of ${candidates} ${plural} of ${formatBytes(floor)}+ estimated; most wasted ${formatBytes(value)}${notes.length ? `; ${notes.join('; ')}` : ''}`,
        // Nothing could be estimated although there were candidates: say so rather than OK.
        ...(candidates > 0 && trusted === 0
          ? { unknownReason: `no ${kind} bloat could be estimated` }
          : {}),
      }
    },
  })
}

export const indexBloatCheck = bloatCheck('index')
export const tableBloatCheck = bloatCheck('table')
