import type pg from 'pg'
import type { ServerInfo } from './types.ts'

export interface Timeouts {
  statement: number
  lock: number
}

/** Where the session's own statement_timeout can come from, for messages. */
const SESSION_TIMEOUT_SOURCES = 'set on the role, the database or pool.statementTimeoutMs'

/**
 * A server error raised by the statement that opens a check's transaction. That statement
 * still runs under the session's own statement_timeout (health's SET LOCAL comes after it),
 * so a tiny role or pool timeout cancels it, and the message must name that timeout, not
 * health's.
 */
export class BeginFailure extends Error {
  readonly code: string | undefined
  readonly elapsedMs: number
  constructor(cause: Error & { code?: string }, elapsedMs: number) {
    super(cause.message, { cause })
    this.code = cause.code
    this.elapsedMs = elapsedMs
  }
}

/**
 * Opens a read-only transaction bounded by health's own statement_timeout and
 * lock_timeout, whatever the session's are. jit off: catalog queries over 10k+ tables
 * cross jit_above_cost and would spend a second compiling.
 */
export async function beginBounded(client: pg.ClientBase, t: Timeouts): Promise<void> {
  const started = Date.now()
  try {
    await client.query(
      `begin transaction read only; set local statement_timeout = ${Math.round(t.statement)}; set local lock_timeout = ${Math.round(t.lock)}; set local jit = off`,
    )
  } catch (error) {
    const err = error as Error & { code?: string }
    if (!err.code) throw error // not a server error: the connection itself is in doubt
    throw new BeginFailure(err, Date.now() - started)
  }
}

/** Whose statement_timeout cancelled a statement: the session's (before SET LOCAL) or health's. */
function timeoutReason(message: string, t: Timeouts, error: unknown, server?: ServerInfo): string {
  if (/user request/i.test(message))
    return `cancelled by another session (pg_cancel_backend): ${message}`
  if (error instanceof BeginFailure) {
    const session = server?.sessionStatementTimeoutMs
      ? `${server.sessionStatementTimeoutMs} ms, `
      : ''
    return `cancelled after ${error.elapsedMs} ms by this session's own statement_timeout (${session}${SESSION_TIMEOUT_SOURCES}) before health could set its own (${t.statement} ms): raise it, or give health a role without it`
  }
  return `timed out after ${t.statement} ms (statement_timeout): the server was too slow or busy to answer in time`
}

const ERROR_REASONS: Record<
  string,
  (message: string, t: Timeouts, error: unknown, server?: ServerInfo) => string
> = {
  '57014': timeoutReason,
  '55P03': (m, t) =>
    `waited ${t.lock} ms for a lock and gave up (lock_timeout): another session holds a conflicting lock (${m})`,
  '42501': (m, _t, _e, s) =>
    `permission denied: ${m}; grant pg_monitor to ${s?.user ?? 'the role'} (or run as its owner)`,
  '42883': (m) => `not available on this server: ${m}`,
  '42P01': (m) => `not available on this server: ${m}`,
  '0A000': (m) => `not supported here: ${m}`,
}

/**
 * The sentence for a server error a check (or the server facts query) ended with, or
 * undefined when it is not a server error (no SQLSTATE): then the connection is in doubt.
 */
export function explainServerError(
  error: unknown,
  t: Timeouts,
  server?: ServerInfo,
): string | undefined {
  const err = error as { code?: string; message?: string }
  if (!err.code) return undefined
  const explain = ERROR_REASONS[err.code]
  return explain
    ? explain(err.message ?? '', t, error, server)
    : `the check failed: ${err.message} (SQLSTATE ${err.code})`
}

/** Note for the connection check when the session's statement_timeout is shorter than health's. */
export function sessionTimeoutNote(
  server: ServerInfo,
  statementTimeoutMs: number,
): string | undefined {
  const own = server.sessionStatementTimeoutMs
  if (!own || own >= statementTimeoutMs) return undefined
  return `this session's statement_timeout is ${own} ms (${SESSION_TIMEOUT_SOURCES}): health runs each check under its own ${statementTimeoutMs} ms, other dbops tasks under ${own} ms`
}
