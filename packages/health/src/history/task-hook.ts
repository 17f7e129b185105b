import { messageOf, scrub, type Context } from 'dbops/plugin'
import type { HealthReport } from '../types.ts'
import type { HistoryOptions } from './options.ts'
import { recordHealth } from './record.ts'

/**
 * What `health:check` does after each run: record the report unless history is off or the
 * run is a dry run. Returns why it could not, for the task to report; never throws for it.
 */
export async function recordHistory(
  ctx: Context,
  report: HealthReport,
  history: HistoryOptions,
): Promise<string | undefined> {
  if (history === false || ctx.dryRun) return undefined
  try {
    const { recorded, store } = await recordHealth(ctx, report, history)
    ctx.logger.debug(`health: ${recorded} results recorded in ${store}`)
    return undefined
  } catch (error) {
    if (ctx.signal.aborted) throw error
    return scrub(messageOf(error), [ctx.db.target.password])
  }
}
