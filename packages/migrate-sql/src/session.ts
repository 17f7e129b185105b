import postgres from 'postgres'
import { DbopsError, sleep, type ConnectionTarget, type Logger } from 'dbops/plugin'

export type Conn = postgres.ReservedSql<{}>
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
 */
export class MigrationSession {
  private readonly sql: postgres.Sql<{}>
  readonly conn: Conn
  private readonly signal: AbortSignal
  readonly notices: string[]

  private constructor(sql: postgres.Sql<{}>, conn: Conn, signal: AbortSignal, notices: string[]) {
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
      ssl: ssl as postgres.Options<{}>['ssl'],
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

  /** Runs one simple-protocol query; aborting cancels it on the server. A lost connection becomes DB_CONNECTION_LOST. */
  async run<T extends readonly object[] = postgres.Row[]>(
    text: string,
  ): Promise<postgres.RowList<T>> {
    this.signal.throwIfAborted()
    if (this.lost)
      throw new DbopsError('DB_CONNECTION_LOST', 'the connection to the database was lost')
    const query = this.conn.unsafe(text)
    const cancel = () => void query.cancel()
    this.signal.addEventListener('abort', cancel, { once: true })
    try {
      return (await query) as unknown as postgres.RowList<T>
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

  private lost = false

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
    const cancel = () => queries.forEach((q) => void q.cancel())
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
    } catch {}
    await this.sql.end({ timeout: 1 }).catch(() => {})
  }
}

/** Errors after which the session is gone: nothing more may be sent on it. */
export function isConnectionLost(error: unknown): boolean {
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

const HOLDER = (key: bigint) => `
  select a.pid, a.application_name, a.client_addr::text as client_addr, a.backend_start, a.state, a.query_start, a.xact_start, left(a.query, 200) as query
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
   where l.locktype = 'advisory' and l.granted and l.objsubid = 1 and l.database = (select oid from pg_database where datname = current_database())
     and l.classid = ((${key}::bigint >> 32) & 4294967295)::oid and l.objid = (${key}::bigint & 4294967295)::oid
   limit 1`

/**
 * Takes the session advisory lock by polling pg_try_advisory_lock with backoff and jitter
 * until `waitMs` passes. Never a blocking pg_advisory_lock: a session blocked in it is a
 * transaction that a concurrent CREATE INDEX CONCURRENTLY would wait for, forever.
 * Returns how long it waited.
 */
export async function acquireMigrationLock(
  session: MigrationSession,
  key: bigint,
  what: string,
  waitMs: number,
  signal: AbortSignal,
  onWait?: (holder: string) => void,
): Promise<number> {
  const started = Date.now()
  let pause = 50
  let told = false
  for (;;) {
    const rows = await session.run<Array<{ locked: boolean }>>(
      `select pg_try_advisory_lock(${key}::bigint) as locked`,
    )
    if (rows[0]?.locked) {
      await assertLockIsOurs(session, key)
      return Date.now() - started
    }
    const elapsed = Date.now() - started
    if (!told && onWait) {
      told = true
      onWait(await describeHolder(session, key))
    }
    if (elapsed >= waitMs) {
      const holder = await describeHolder(session, key)
      throw new DbopsError(
        'MIGRATION_LOCK_HELD',
        `another migration holds the lock on ${what}: ${holder}; gave up after waiting ${(elapsed / 1000).toFixed(1)}s`,
        {
          hint: "Wait for that run to finish and retry, raise the migrate plugin's `lockWait`, or if it is stuck end it with pg_terminate_backend(<pid>).",
        },
      )
    }
    const jitter = 0.5 + Math.random()
    await sleep(Math.min(pause * jitter, waitMs - elapsed + 1), signal)
    pause = Math.min(pause * 2, 1000)
  }
}

/**
 * A session lock only protects anything if every later query runs on the session that holds
 * it. Behind a transaction-mode pooler (PgBouncer) consecutive queries may land on other
 * server connections: check from the next query that this backend holds the lock, and refuse
 * to go on when it does not.
 */
async function assertLockIsOurs(session: MigrationSession, key: bigint): Promise<void> {
  const rows = await session.run<Array<{ held: boolean }>>(`
    select exists (select 1 from pg_locks where locktype = 'advisory' and granted and pid = pg_backend_pid() and objsubid = 1
      and classid = ((${key}::bigint >> 32) & 4294967295)::oid and objid = (${key}::bigint & 4294967295)::oid) as held`)
  if (rows[0]?.held) return
  throw new DbopsError(
    'MIGRATION_POOLER',
    'the migration lock was taken on one server connection and the next query ran on another: the connection goes through a transaction-mode pooler',
    {
      hint: 'Point dbops at the database directly (not through PgBouncer in transaction mode), e.g. a DIRECT_URL next to the pooled DATABASE_URL.',
    },
  )
}

export async function describeHolder(session: MigrationSession, key: bigint): Promise<string> {
  const rows = await session
    .run<Array<Record<string, any>>>(HOLDER(key))
    .catch(() => [] as Array<Record<string, any>>)
  const h = rows[0]
  if (!h) return 'a session that has just released it'
  const since = h.xact_start ?? h.query_start ?? h.backend_start
  return `pid ${h.pid} (application_name '${h.application_name || ''}'${h.client_addr ? `, from ${h.client_addr}` : ''}, ${h.state ?? 'unknown state'}, since ${new Date(since).toISOString()})`
}

export async function releaseMigrationLock(session: MigrationSession, key: bigint): Promise<void> {
  await session.run(`select pg_advisory_unlock(${key}::bigint)`).catch(() => {})
}
