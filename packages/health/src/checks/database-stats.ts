import { z } from 'zod'
import { defineCheck, num } from './define-check.ts'

export const DATABASE_STATS_SQL = `
select blks_hit, blks_read, xact_commit, xact_rollback, deadlocks,
       extract(epoch from now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 as window_seconds
from pg_stat_database where datname = current_database()`

export const cacheHitRatioCheck = defineCheck({
  id: 'cache_hit_ratio',
  title: 'cache hit ratio',
  unit: 'percent',
  direction: 'below',
  defaults: { warning: 98, critical: 90 },
  source:
    'postgres_exporter mixin: < 98% (warning); pghero: < 99% (extended); critical 90% is a dbops default',
  hint: 'The working set no longer fits in memory: add RAM / shared_buffers, or find the queries reading most blocks (slow_queries).',
  options: { minBlocks: z.number().int().nonnegative().default(10_000) },
  run: async ({ sql, options }) => {
    const [row] = await sql(DATABASE_STATS_SQL)
    const hit = num(row?.blks_hit)
    const read = num(row?.blks_read)
    if (hit + read < options.minBlocks)
      return {
        value: null,
        status: 'ok',
        message: `too little traffic to judge (${hit + read} block reads since the statistics were reset)`,
      }
    const pct = (hit / (hit + read)) * 100
    return { value: pct, message: `${pct.toFixed(2)}% of block reads served from shared buffers` }
  },
})

export const rollbackRatioCheck = defineCheck({
  id: 'rollback_ratio',
  title: 'rollback ratio',
  unit: 'percent',
  defaults: { warning: 10, critical: 25 },
  source: 'postgres_exporter mixin: rollbacks > 10%; critical 25% is a dbops default',
  hint: 'Many transactions end in errors or explicit rollbacks: look at the application and server logs for the errors.',
  options: { minTransactions: z.number().int().nonnegative().default(1000) },
  run: async ({ sql, options }) => {
    const [row] = await sql(DATABASE_STATS_SQL)
    const commits = num(row?.xact_commit)
    const rollbacks = num(row?.xact_rollback)
    if (commits + rollbacks < options.minTransactions)
      return {
        value: null,
        status: 'ok',
        message: `too few transactions to judge (${commits + rollbacks})`,
      }
    const pct = (rollbacks / (commits + rollbacks)) * 100
    return {
      value: pct,
      message: `${rollbacks} of ${commits + rollbacks} transactions rolled back (${pct.toFixed(2)}%)`,
    }
  },
})

export const deadlocksCheck = defineCheck({
  id: 'deadlocks',
  title: 'deadlocks',
  unit: 'rate',
  defaults: { warning: 1, critical: 300 },
  source:
    'postgres_exporter mixin: > 5 deadlocks/min (= 300/h, critical); warning 1/h is a dbops default',
  hint: 'Deadlocks mean transactions take locks in different orders: the server log names the statements; lock rows in a consistent order.',
  run: async ({ sql }) => {
    const [row] = await sql(DATABASE_STATS_SQL)
    const hours = Math.max(num(row?.window_seconds) / 3600, 1)
    const rate = num(row?.deadlocks) / hours
    return {
      value: rate,
      message: `${row?.deadlocks ?? 0} deadlocks in the last ${Math.round(hours)} h of statistics (${rate.toFixed(2)}/h)`,
    }
  },
})
