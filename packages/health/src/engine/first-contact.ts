import { isAbortError, scrub, type Context } from 'dbops/plugin'
import type pg from 'pg'
import { SERVER_INFO_SQL, readServerInfo } from '../checks/connection.ts'
import type { HealthOptions } from '../options.ts'
import {
  beginBounded,
  explainServerError,
  sessionTimeoutNote,
  type Timeouts,
} from '../transaction.ts'
import type { CheckDefinition, CheckResult, ServerInfo } from '../types.ts'
import { connect } from './connections.ts'
import { runDatabaseCheck } from './database-check.ts'
import { checkResult, unknownResult } from './result.ts'

/** What the run knows after its first contact with the database. */
export type FirstContact =
  | {
      /** The server facts every other check needs. */
      server: ServerInfo
      /** The connection check's result. */
      result: CheckResult
      /** The client it used, still usable (absent when it stopped answering). */
      client?: pg.PoolClient
    }
  | {
      server?: undefined
      result: CheckResult
      /** Why no database check can run: the message each of them reports. */
      notChecked: string
    }

/** The server facts, read under health's own timeouts like every check. */
async function readServer(client: pg.PoolClient, timeouts: Timeouts): Promise<ServerInfo> {
  try {
    await beginBounded(client, timeouts)
    const { rows } = await client.query(SERVER_INFO_SQL)
    await client.query('commit')
    return readServerInfo(rows[0])
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

/**
 * Connects, reads the server facts and runs the connection check, always first: without
 * these facts no other database check can run, not even to say why. Throws only when the
 * run is interrupted.
 */
export async function firstContact(
  ctx: Context,
  connectionCheck: CheckDefinition,
  options: HealthOptions,
  deadline: number,
  secrets: (string | undefined)[],
): Promise<FirstContact> {
  let client: pg.PoolClient
  try {
    client = await connect(ctx)
  } catch (error) {
    if (isAbortError(error) || ctx.signal.aborted) throw error
    return unreachable(connectionCheck, options, scrub((error as Error).message, secrets))
  }
  const began = Date.now()
  // Not cut by the run's budget: without these facts no check can run, not even to say so.
  const timeouts = { statement: options.statementTimeoutMs, lock: options.lockTimeoutMs }
  let server: ServerInfo
  try {
    server = await readServer(client, timeouts)
  } catch (error) {
    client.release()
    if (ctx.signal.aborted) throw ctx.signal.reason
    const explained = explainServerError(error, timeouts)
    if (!explained)
      return unreachable(connectionCheck, options, scrub((error as Error).message, secrets))
    const refusal = scrub(explained, secrets)
    return {
      result: unknownResult(
        connectionCheck,
        options,
        `connected, but health's first query failed: ${refusal}`,
        Date.now() - began,
      ),
      notChecked: `not checked: health's first query failed: ${refusal}`,
    }
  }

  try {
    const result = await runDatabaseCheck(ctx, client, connectionCheck, options, server, deadline)
    const note = sessionTimeoutNote(server, options.statementTimeoutMs)
    if (note && result.status !== 'critical') result.message += `; ${note}`
    result.durationMs = Date.now() - began
    return { server, result, client }
  } catch (error) {
    if (ctx.signal.aborted) throw ctx.signal.reason
    // The client is in doubt: destroy it; the other checks take fresh ones.
    client.release(error instanceof Error ? error : new Error(String(error)))
    const message = `the database stopped answering: ${scrub((error as Error).message, secrets)}`
    const result = checkResult(
      connectionCheck,
      options,
      { status: 'critical', message },
      Date.now() - began,
    )
    return { server, result }
  }
}

function unreachable(
  connectionCheck: CheckDefinition,
  options: HealthOptions,
  failure: string,
): FirstContact {
  return {
    result: checkResult(
      connectionCheck,
      options,
      { status: 'critical', message: `cannot reach the database: ${failure}` },
      0,
    ),
    notChecked: 'not checked: no connection to the database',
  }
}
