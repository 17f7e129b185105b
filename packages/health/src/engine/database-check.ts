import { cancelBackend, type Context } from 'dbops/plugin'
import type pg from 'pg'
import { checkOptions, type HealthOptions } from '../options.ts'
import { beginBounded, explainServerError, type Timeouts } from '../transaction.ts'
import type { CheckDefinition, CheckResult, ServerInfo } from '../types.ts'
import { checkContext } from './check-context.ts'
import { checkResult } from './result.ts'

/** The client-side watchdog's margin over statement_timeout, for the round trips around it. */
const WATCHDOG_MARGIN_MS = 2000

/** A check's statement_timeout (its own, else the run's, never past the run's deadline) and lock_timeout. */
function checkTimeouts(options: HealthOptions, check: CheckDefinition, deadline: number): Timeouts {
  const own = checkOptions(options, check.id)
  const statement = Math.max(
    1,
    Math.min(own.timeoutMs ?? options.statementTimeoutMs, deadline - Date.now()),
  )
  return { statement, lock: Math.min(options.lockTimeoutMs, statement) }
}

/**
 * One database check inside its own read-only transaction, bounded by its timeouts. A
 * server error becomes an UNKNOWN result that says why; anything else (the connection
 * lost, the watchdog fired) is thrown: the client is in doubt and the caller drops it.
 */
export async function runDatabaseCheck(
  ctx: Context,
  client: pg.PoolClient,
  check: CheckDefinition,
  options: HealthOptions,
  server: ServerInfo,
  deadline: number,
): Promise<CheckResult> {
  const timeouts = checkTimeouts(options, check, deadline)
  const { statement } = timeouts
  const began = Date.now()
  let watchdog: NodeJS.Timeout | undefined
  const cancel = () => void cancelBackend(ctx.db, client)
  ctx.signal.addEventListener('abort', cancel, { once: true })
  try {
    await beginBounded(client, timeouts)
    const work = check.run(
      checkContext(ctx, check, options, { client, server, deadline: began + statement }),
    )
    work.catch(() => {}) // when the watchdog wins, the late failure of the abandoned check is expected
    // The server enforces statement_timeout per statement; this bounds the whole check
    // (several statements, or a server that stopped answering) on the client side.
    const limitMs = statement + WATCHDOG_MARGIN_MS
    const guard = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => {
        cancel()
        reject(new Error(`no answer within ${limitMs} ms: the check was abandoned`))
      }, limitMs)
    })
    const outcome = await Promise.race([work, guard])
    await client.query('commit')
    return checkResult(check, options, outcome, Date.now() - began)
  } catch (error) {
    if (ctx.signal.aborted) throw error
    const message = explainServerError(error, timeouts, server)
    if (!message) throw error // not a server error: the connection itself is in doubt
    await client.query('rollback').catch(() => {})
    return checkResult(check, options, { status: 'unknown', message }, Date.now() - began)
  } finally {
    clearTimeout(watchdog)
    ctx.signal.removeEventListener('abort', cancel)
  }
}
