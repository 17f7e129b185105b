import { z } from 'zod'
import { listingFloor } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'
import { shortQuery } from './sessions.ts'

/**
 * Two steps so a huge query-text file is read only when something is slow: first the
 * numbers without texts (pg_stat_statements(false)), then the texts of the few offenders.
 */
export const SLOW_STATEMENTS_SQL = `
select queryid::text as queryid, userid::regrole::text as role, calls::bigint as calls,
       (total_exec_time / nullif(calls, 0))::float8 as mean_ms, total_exec_time::float8 as total_ms, rows::bigint as rows,
       count(*) over ()::int as total
from pg_stat_statements(false)
where dbid = (select oid from pg_database where datname = current_database())
  and calls >= $1 and total_exec_time / nullif(calls, 0) >= $2
order by total_exec_time desc
limit $3`

export const STATEMENT_TEXTS_SQL = `
select queryid::text as queryid, left(query, 400) as query
from pg_stat_statements(true)
where dbid = (select oid from pg_database where datname = current_database()) and queryid::text = any($1::text[])`

export const slowQueriesCheck = defineCheck({
  id: 'slow_queries',
  title: 'slow statements (pg_stat_statements)',
  unit: 'ms',
  defaults: { warning: 20, critical: null },
  source:
    'pghero slow queries: mean >= 20 ms and >= 100 calls, top by total time; no critical level (slowness alone should not page)',
  hint: 'EXPLAIN (ANALYZE, BUFFERS) the statement; the usual fix is an index or a rewritten query. Statistics accumulate until pg_stat_statements_reset().',
  options: { minCalls: z.number().int().nonnegative().default(100) },
  run: async ({ sql, server, options, limit }) => {
    if (!server.extensions.has('pg_stat_statements')) {
      return {
        status: 'skipped',
        message:
          'pg_stat_statements is not installed in this database (add it to shared_preload_libraries, then CREATE EXTENSION pg_stat_statements)',
      }
    }
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql(SLOW_STATEMENTS_SQL, [options.minCalls, floor, limit])
    const texts = rows.length ? await sql(STATEMENT_TEXTS_SQL, [rows.map((r) => r.queryid)]) : []
    const textOf = new Map(texts.map((t) => [t.queryid, t.query]))
    const total = num(rows[0]?.total)
    return {
      findings: rows.map((r) => ({
        object: `queryid ${r.queryid} (${r.role})`,
        value: num(r.mean_ms),
        detail: `${num(r.calls).toLocaleString('en-US')} calls, mean ${num(r.mean_ms).toFixed(1)} ms, total ${(num(r.total_ms) / 1000).toFixed(1)} s: ${shortQuery(textOf.get(r.queryid) ?? '<text not visible>', 200)}`,
      })),
      total,
      message: total
        ? `${total} statement(s) with ${options.minCalls}+ calls averaging over ${floor} ms`
        : `no statement with ${options.minCalls}+ calls averaging over ${floor} ms`,
    }
  },
})
