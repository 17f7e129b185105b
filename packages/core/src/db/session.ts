import type pg from 'pg'
import { DbopsError } from '../errors.ts'
import { cancelBackend } from './cancel.ts'
import { describeTarget, type ConnectionTarget } from './connection.ts'
import type { Queryable, QueryOptions, Row } from './db.ts'
import { explainConnectionError } from './errors.ts'
import { loadPg } from './load-pg.ts'

/** Server-side timeouts of one session, in milliseconds; 0 turns one off, unset leaves the role's. */
export interface SessionTimeouts {
  /** statement_timeout: a statement that runs longer is cancelled (SQLSTATE 57014). */
  statementMs?: number
  /** lock_timeout: a statement that waits longer for a lock fails (SQLSTATE 55P03). */
  lockMs?: number
  /** idle_in_transaction_session_timeout: a transaction left idle longer ends the session. */
  idleInTransactionMs?: number
}

export interface SessionOptions {
  /** What pg_stat_activity shows for the session; defaults to the connection's `applicationName`. */
  applicationName?: string
  /** Another database of the same server, reached with the same user, password and host. */
  database?: string
  timeouts?: SessionTimeouts
}

const TIMEOUT_SETTINGS = {
  statementMs: 'statement_timeout',
  lockMs: 'lock_timeout',
  idleInTransactionMs: 'idle_in_transaction_session_timeout',
} as const satisfies Record<keyof SessionTimeouts, string>

/** `select set_config($1, $2, false), ...`: every setting in one round trip, values as parameters. */
const setConfigSql = (count: number, first: number) =>
  Array.from({ length: count }, (_, i) => {
    const n = first + 2 * i
    return `set_config($${n}, $${n + 1}, false)`
  }).join(', ')

const settingsOf = (timeouts: SessionTimeouts = {}): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, name] of Object.entries(TIMEOUT_SETTINGS)) {
    const ms = timeouts[key as keyof SessionTimeouts]
    if (ms !== undefined) out[name] = String(Math.round(ms))
  }
  return out
}

/**
 * One dedicated connection, not a pool checkout: its own pg.Client that lives as long as the
 * work needs (a REINDEX of hours, a snapshot the backup holds open), with server-side timeouts
 * of its own and no client-side query timeout. Session state (settings, advisory locks,
 * transactions) stays on it. Aborting a query cancels it on the server.
 */
export class DbSession implements Queryable {
  /** The server process of this session (pg_stat_activity.pid). */
  readonly pid: number
  /** Where it is connected; pass it to `db.libpqEnv()` for a child process of the same database. */
  readonly target: ConnectionTarget
  private readonly client: pg.Client
  private readonly canceller: Queryable
  /** The first error the connection reported: the server's own word when it ended the session. */
  private lost: Error | undefined
  private closed = false

  constructor(client: pg.Client, target: ConnectionTarget, pid: number, canceller: Queryable) {
    this.client = client
    this.target = target
    this.pid = pid
    this.canceller = canceller
    client.on('error', (error) => {
      this.lost ??= error
    })
  }

  /** Runs one statement. Aborting `options.signal` cancels it on the server and rejects with the abort reason. */
  async query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<pg.QueryResult<R>> {
    const signal = options?.signal
    signal?.throwIfAborted()
    const cancel = () => void cancelBackend(this.canceller, this.client)
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return await this.client.query<R>(sql, params as unknown[] | undefined)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw this.explain(error)
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  /** Sets session settings (`set_config(name, value, false)`), all in one round trip. */
  async set(settings: Record<string, string>): Promise<void> {
    const entries = Object.entries(settings)
    if (!entries.length) return
    await this.query(`select ${setConfigSql(entries.length, 1)}`, entries.flat())
  }

  /** Changes some of the session's timeouts; the others stay as they are. */
  setTimeouts(timeouts: SessionTimeouts): Promise<void> {
    return this.set(settingsOf(timeouts))
  }

  /** Ends the connection; the server releases its locks. Safe to call twice; never throws. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.client.end().catch(() => {})
  }

  /**
   * A statement's own error as the server sent it (SQLSTATE and all). After the connection
   * ended, pg says only "not queryable": the session's first error tells what ended it
   * (pg_terminate_backend's 57P01, a timeout's 25P03), or, when the server said nothing, a
   * DB_CONNECTION_LOST sentence.
   */
  private explain(error: unknown): unknown {
    if (hasSqlState(error) || !this.lost) return error
    if (hasSqlState(this.lost)) return this.lost
    return new DbopsError(
      'DB_CONNECTION_LOST',
      `the connection to ${describeTarget(this.target)} was lost: ${this.lost.message}`,
      {
        hint: 'The server restarted, or the network or a proxy dropped the connection; run again once it answers.',
        cause: this.lost,
      },
    )
  }
}

const hasSqlState = (error: unknown): boolean =>
  /^[0-9A-Z]{5}$/.test(String((error as { code?: unknown } | undefined)?.code ?? ''))

/** Opens a session (see `Db.session`): connects, reads its pid and sets its timeouts in one round trip. */
export async function openSession(
  target: ConnectionTarget,
  connectTimeoutMs: number,
  canceller: Queryable,
  options: SessionOptions = {},
): Promise<DbSession> {
  const client = new (loadPg().Client)({
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: target.ssl,
    application_name: options.applicationName ?? target.applicationName,
    connectionTimeoutMillis: connectTimeoutMs,
    keepAlive: true,
  })
  // Until the session listens, an error event of a failed connect must not crash the process.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    throw explainConnectionError(error, target)
  }
  const settings = Object.entries(settingsOf(options.timeouts))
  try {
    const columns = [
      'pg_backend_pid() as pid',
      ...(settings.length ? [setConfigSql(settings.length, 1)] : []),
    ]
    const { rows } = await client.query<{ pid: number }>(
      `select ${columns.join(', ')}`,
      settings.flat(),
    )
    return new DbSession(client, target, rows[0]!.pid, canceller)
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
}
