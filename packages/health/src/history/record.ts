import { Db, type Context } from 'dbops/plugin'
import { CATALOG } from '../checks/index.ts'
import type { HealthReport } from '../types.ts'
import type { HistoryOptions } from './options.ts'
import * as SQL from './sql.ts'

const MESSAGE_MAX = 500
const ensured = new WeakSet<Db>()

/**
 * Records one report in the history store (creating the tables on first use) and deletes
 * results older than `retainDays`, in one transaction: a run is recorded whole or not at all.
 */
export async function recordHealth(
  ctx: Context,
  report: HealthReport,
  options: Exclude<HistoryOptions, false>,
): Promise<{ recorded: number; store: string }> {
  const own = options.url
    ? new Db(
        { url: options.url, applicationName: 'dbops health history' },
        { ...ctx.config.pool, max: 1 },
      )
    : undefined
  const db = own ?? ctx.db
  try {
    const results = report.checks.filter((r) => r.status !== 'skipped')
    const byId = new Map(CATALOG.map((c) => [c.id, c]))
    await db.withClient(async (client) => {
      await client.query('begin')
      try {
        if (!ensured.has(db)) await client.query(SQL.CREATE_HISTORY)
        await client.query(SQL.INSERT_RESULTS, [
          report.startedAt,
          report.database,
          results.map((r) => r.check),
          results.map((r) => r.status),
          results.map((r) => (r.value === null || !Number.isFinite(r.value) ? null : r.value)),
          results.map((r) => r.message.slice(0, MESSAGE_MAX)),
          ctx.runId,
        ])
        await client.query(SQL.UPSERT_CHECKS, [
          report.database,
          report.checks.map((r) => r.check),
          report.checks.map((r) => r.title),
          report.checks.map((r) => r.unit),
          report.checks.map((r) => r.thresholds.direction),
          report.checks.map((r) => r.thresholds.warning),
          report.checks.map((r) => r.thresholds.critical),
          report.checks.map((r) => byId.get(r.check)?.hint ?? null),
          report.startedAt,
        ])
        await client.query(SQL.PRUNE_RESULTS, [options.retainDays])
        await client.query('commit')
      } catch (error) {
        await client.query('rollback').catch(() => {})
        throw error
      }
    })
    ensured.add(db)
    return { recorded: results.length, store: db.description }
  } finally {
    await own?.close()
  }
}
