import { scrub, type Context } from 'dbops/plugin'
import { checkOptions, type HealthOptions } from '../options.ts'
import type { CheckDefinition, CheckResult, ServerInfo } from '../types.ts'
import { checkContext } from './check-context.ts'
import { checkResult, unknownResult } from './result.ts'

/**
 * Runs the checks that need no database connection (pool statistics, backup manifests),
 * one after the other. A check that throws is UNKNOWN with the reason.
 */
export async function runLocalChecks(
  ctx: Context,
  checks: CheckDefinition[],
  options: HealthOptions,
  server: ServerInfo | undefined,
  deadline: number,
  secrets: (string | undefined)[],
): Promise<Map<string, CheckResult>> {
  const results = new Map<string, CheckResult>()
  for (const check of checks) {
    const began = Date.now()
    const own = checkOptions(options, check.id)
    const until = Math.min(deadline, began + (own.timeoutMs ?? options.statementTimeoutMs))
    try {
      const outcome = await check.run(
        checkContext(ctx, check, options, { ...(server ? { server } : {}), deadline: until }),
      )
      results.set(check.id, checkResult(check, options, outcome, Date.now() - began))
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      const message = `the check failed: ${scrub((error as Error).message, secrets)}`
      results.set(check.id, unknownResult(check, options, message, Date.now() - began))
    }
  }
  return results
}
