import postgres from 'postgres'
import { DbopsError, type ConnectionTarget, type Logger } from 'dbops/plugin'

type Conn = postgres.ReservedSql
export interface PgError extends Error {
  code?: string
  position?: string
  detail?: string
  hint?: string
  where?: string
}

/**
 * One dedicated connection for a migration run (postgres.js, `sql.reserve()`), built from
 * core's connection settings. Everything of the run — the advisory lock, the ledger, the
 * files — goes over it, so the session lock is always held by the session doing the work.
 * postgres.js rather than the kit's `db.session()`: a file goes to the server as one
 * simple-protocol message of many statements, and a batch is pipelined.
 */
export class MigrationSession {
  private readonly sql: postgres.Sql
  readonly conn: Conn
  private readonly signal: AbortSignal
  readonly notices: string[]
  private lost = false

  private constructor(sql: postgres.Sql, conn: Conn, signal: AbortSignal, notices: string[]) {
    this.sql = sql
    this.conn = conn
    this.signal = signal
    this.notices = notices
  }

  static async open(
    target: ConnectionTarget,
    signal: AbortSignal,
    logger?: Logger,
  ): Promise<MigrationSession> {
    signal.throwIfAborted()
    const notices: string[] = []
    const ssl = target.ssl === true ? {} : target.ssl || false
    const sql = postgres({
      host: target.host,
      port: target.port,
      database: target.database,
      username: target.user,
      password: target.password,
      ssl: ssl as postgres.Options<Record<string, never>>['ssl'],
      max: 1,
      prepare: false, // also works behind poolers for the statements; the lock itself needs a real session
      idle_timeout: 0,
      connect_timeout: 10,
      connection: { application_name: `${target.applicationName || 'dbops'} migrate` },
      onnotice: (n) => {
        notices.push(String(n.message))
        logger?.debug?.(`notice: ${n.message}`)
      },
    })
    let conn: Conn
    try {
      conn = await sql.reserve()
      // A runner killed mid-statement should not leave its backend running the statement on.
      await conn.unsafe(
        `select set_config('client_connection_check_interval', '2s', false) where current_setting('server_version_num')::int >= 140000`,
      )
    } catch (error) {
      await sql.end({ timeout: 0 }).catch(() => {})
      throw new DbopsError(
        'DB_CONNECT',
        `could not connect to ${target.user}@${target.host}:${target.port}/${target.database}: ${(error as Error).message}`,
        {
          hint: 'Check the connection settings (DATABASE_URL) and that the server is up.',
          cause: error,
        },
      )
    }
    return new MigrationSession(sql, conn, signal, notices)
  }

  /** Runs one simple-protocol query (a script of statements); aborting cancels it on the server. */
  run<T extends object[] = postgres.Row[]>(text: string): Promise<postgres.RowList<T>> {
    return this.send(() => this.conn.unsafe<T>(text))
  }

  /**
   * One statement with parameters (`$1`...), the shape of the kit's lock connection: the
   * advisory lock runs its statements on this session, the one doing the work.
   */
  async query(
    sql: string,
    params: readonly string[],
  ): Promise<{ rows: postgres.RowList<postgres.Row[]> }> {
    return { rows: await this.send(() => this.conn.unsafe(sql, [...params])) }
  }

  /** Sends a query; a lost connection becomes DB_CONNECTION_LOST, and nothing more is sent. */
  private async send<T extends object[]>(
    make: () => postgres.PendingQuery<T>,
  ): Promise<postgres.RowList<T>> {
    this.signal.throwIfAborted()
    if (this.lost)
      throw new DbopsError('DB_CONNECTION_LOST', 'the connection to the database was lost')
    const query = make()
    const cancel = () => void query.cancel()
    this.signal.addEventListener('abort', cancel, { once: true })
    try {
      return await query
    } catch (error) {
      if (this.signal.aborted) throw this.signal.reason
      if (this.lost || isConnectionLost(error)) {
        this.lost = true
        throw new DbopsError(
          'DB_CONNECTION_LOST',
          `the connection to the database was lost: ${(error as Error).message}`,
          {
            hint: 'A transactional file in flight was rolled back by the server; run again to go on (applied files are skipped, a no-transaction file resumes).',
            cause: error,
          },
        )
      }
      throw error
    } finally {
      this.signal.removeEventListener('abort', cancel)
    }
  }

  /**
   * Sends several queries at once (pipelined: one network round trip) and waits for all.
   * Returns the index and error of the first one that failed, if any.
   */
  async pipeline(texts: string[]): Promise<{
    failedAt: number
    error: PgError | undefined
    results: Array<postgres.RowList<postgres.Row[]> | undefined>
  }> {
    this.signal.throwIfAborted()
    const queries = texts.map((t) => this.conn.unsafe(t).execute())
    const cancel = () => {
      for (const q of queries) void q.cancel()
    }
    this.signal.addEventListener('abort', cancel, { once: true })
    try {
      const settled = await Promise.allSettled(queries)
      if (this.signal.aborted) throw this.signal.reason
      const failedAt = settled.findIndex((s) => s.status === 'rejected')
      return {
        failedAt,
        error:
          failedAt === -1
            ? undefined
            : ((settled[failedAt] as PromiseRejectedResult).reason as PgError),
        results: settled.map((s) =>
          s.status === 'fulfilled' ? (s.value as postgres.RowList<postgres.Row[]>) : undefined,
        ),
      }
    } finally {
      this.signal.removeEventListener('abort', cancel)
    }
  }

  async close(): Promise<void> {
    try {
      this.conn.release()
    } catch {
      // already released: the connection ended
    }
    await this.sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** Errors after which the session is gone: nothing more may be sent on it. */
function isConnectionLost(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? '')
  return (
    /^(08|57P0[123])/.test(code) ||
    [
      'CONNECTION_CLOSED',
      'CONNECTION_ENDED',
      'CONNECTION_DESTROYED',
      'ECONNRESET',
      'EPIPE',
      'ETIMEDOUT',
    ].includes(code)
  )
}
