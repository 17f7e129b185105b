import type pg from 'pg'
import type { Db } from 'dbops/plugin'
import { cancelBackend, DbopsError } from 'dbops/plugin'

/**
 * A connection of its own for maintenance statements. Not from the pool: the pool's
 * client-side query timeout would cut a rebuild of a large index short, and REINDEX
 * CONCURRENTLY must run as a single statement outside any transaction, with its own
 * session settings (lock_timeout, statement_timeout, application_name).
 */
export class MaintenanceSession {
  private readonly db: Db
  private readonly client: pg.Client
  readonly pid: number

  private constructor(db: Db, client: pg.Client, pid: number) {
    this.db = db
    this.client = client
    this.pid = pid
  }

  static async open(db: Db, applicationName = 'dbops-reindex'): Promise<MaintenanceSession> {
    const t = db.target
    // pg loads here, when a rebuild opens its session: a config that only lists the plugin never loads it.
    const { default: pgModule } = await import('pg')
    const client = new pgModule.Client({
      host: t.host,
      port: t.port,
      database: t.database,
      user: t.user,
      password: t.password,
      ssl: t.ssl,
      application_name: applicationName,
      connectionTimeoutMillis: db.poolConfig.connectTimeoutMs,
    })
    client.on('error', () => {}) // a lost connection surfaces on the next query
    try {
      await client.connect()
    } catch (error) {
      throw new DbopsError(
        'DB_CONNECT',
        `could not open a maintenance connection to ${db.description}: ${(error as Error).message}`,
        { cause: error },
      )
    }
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid')
    return new MaintenanceSession(db, client, rows[0]!.pid)
  }

  /** Sets session settings; values are passed as parameters through set_config. */
  async set(settings: Record<string, string>): Promise<void> {
    for (const [name, value] of Object.entries(settings))
      await this.client.query('select set_config($1, $2, false)', [name, value])
  }

  /**
   * Runs one statement. Aborting `signal` cancels it on the server (pg_cancel_backend from
   * a pool connection) and the promise rejects with the abort reason.
   */
  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    signal?: AbortSignal,
  ): Promise<pg.QueryResult<R>> {
    signal?.throwIfAborted()
    const cancel = () => void cancelBackend(this.db, this.client)
    signal?.addEventListener('abort', cancel, { once: true })
    try {
      return await this.client.query<R>(sql, params)
    } catch (error) {
      if (signal?.aborted) throw signal.reason
      throw error
    } finally {
      signal?.removeEventListener('abort', cancel)
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {})
  }
}

/** SQLSTATE of a failed statement, if it has one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown })?.code
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
}

/** Lock not available, deadlock, statement timeout or a cancel from outside: worth another try later. */
export const RETRYABLE = new Set(['55P03', '40P01', '57014'])

const ms = (n: number) => `${Math.round(n)}ms`
