import { scrub, type Context } from 'dbops/plugin'
import pLimit from 'p-limit'
import type pg from 'pg'
import type { HealthOptions } from '../options.ts'
import type { CheckDefinition, CheckResult, ServerInfo } from '../types.ts'
import { runConnections } from './connections.ts'
import { runDatabaseCheck } from './database-check.ts'
import { unknownResult } from './result.ts'

export interface DatabaseRun {
  server: ServerInfo
  /** The connection check's client, reused by the first check to start. */
  client?: pg.PoolClient
  /** The run's deadline (epoch ms): a check not started by then is UNKNOWN. */
  deadline: number
  secrets: (string | undefined)[]
}

/**
 * Runs the database checks, `options.concurrency` at a time, each on a connection of its
 * own for as long as it runs. A check that cannot connect, or whose connection fails, is
 * UNKNOWN with the reason; the others go on. Throws only when the run is interrupted.
 */
export async function runDatabaseChecks(
  ctx: Context,
  checks: CheckDefinition[],
  options: HealthOptions,
  run: DatabaseRun,
): Promise<Map<string, CheckResult>> {
  const results = new Map<string, CheckResult>()
  const connections = runConnections(ctx, run.client)
  const scrubbed = (error: unknown) => scrub((error as Error).message, run.secrets)

  const runCheck = async (check: CheckDefinition): Promise<void> => {
    if (ctx.signal.aborted) throw ctx.signal.reason
    if (Date.now() >= run.deadline) {
      const spent = `not checked: the run's time budget (${options.runTimeoutMs} ms) was spent`
      results.set(check.id, unknownResult(check, options, spent))
      return
    }
    let client: pg.PoolClient
    try {
      client = await connections.take()
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      results.set(check.id, unknownResult(check, options, `not checked: ${scrubbed(error)}`))
      return
    }
    const began = Date.now()
    let result: CheckResult
    try {
      result = await runDatabaseCheck(ctx, client, check, options, run.server, run.deadline)
      connections.give(client)
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      // The client is unusable (connection lost, watchdog fired): the next check connects anew.
      connections.drop(client, error)
      result = unknownResult(check, options, scrubbed(error), Date.now() - began)
    }
    result.durationMs = Date.now() - began
    results.set(check.id, result)
  }

  const limit = pLimit(Math.max(1, Math.min(options.concurrency, checks.length)))
  try {
    await Promise.all(checks.map((check) => limit(runCheck, check)))
  } finally {
    limit.clearQueue()
    connections.releaseAll()
  }
  return results
}
