import { type Context, cancelBackend, Db } from 'dbops/plugin'
import { serverVersionOf } from './binaries.ts'
import { explainSqlError } from './sql-errors.ts'
import { countTables, EXPORT_SNAPSHOT_SQL, type TableCount } from './tables.ts'

/** The snapshot's transaction, with the session timeouts of the role or database turned off. */
const BEGIN_SNAPSHOT_SQL = `begin isolation level repeatable read read only;
set local statement_timeout = 0;
set local idle_in_transaction_session_timeout = 0`

/** The server version, and the statement_timeout a new session of this role gets (pg_dump's). */
const SESSION_INFO_SQL = `select current_setting('server_version_num') as num,
  (select reset_val from pg_settings where name = 'statement_timeout') as statement_timeout`

/**
 * A role's statement_timeout would apply to pg_dump's first queries (it turns the timeout off
 * itself only after them). Passed only when one is set: a pooler such as PgBouncer refuses
 * startup options it does not know.
 */
const NO_TIMEOUTS_PGOPTIONS = '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0'

type Client = Awaited<ReturnType<Db['connect']>>

/** What pg_dump needs of the snapshot session. */
export interface Snapshot {
  /** pg_export_snapshot(): pg_dump imports it with --snapshot. */
  id: string
  server: { version: string; major: number }
  /** PGOPTIONS for pg_dump: set when the role or database has a statement_timeout. */
  pgOptions?: string
}

/**
 * The session whose snapshot pg_dump imports, so that the row counts recorded in the manifest
 * are of exactly the data in the dump. The snapshot lives as long as this session's
 * transaction: a role's statement_timeout or idle_in_transaction_session_timeout must not
 * end it (pg_dump would fail with "could not import the requested snapshot").
 */
export class SnapshotSession {
  /** The database's pool: the run's own, or one opened for another database of the run. */
  readonly db: Db
  readonly database: string
  readonly #client: Client
  readonly #ownsDb: boolean
  #inTransaction = false
  #closed = false
  /**
   * A session the server ends while it idles fails its next query with only "not queryable":
   * the server's own error (pg_terminate_backend, a timeout) arrived as an event before.
   */
  #lost: Error | undefined
  readonly #onError = (error: Error) => {
    this.#lost ??= error
  }

  private constructor(db: Db, database: string, client: Client, ownsDb: boolean) {
    this.db = db
    this.database = database
    this.#client = client
    this.#ownsDb = ownsDb
    client.on('error', this.#onError)
  }

  /** A dedicated connection to `database`, on the run's pool when it is the configured one. */
  static async open(ctx: Context, database: string): Promise<SnapshotSession> {
    const ownsDb = database !== ctx.db.target.database
    const db = ownsDb
      ? new Db(
          { ...ctx.config.connection, database, readReplicaUrl: undefined },
          { ...ctx.config.pool, max: 2, queryTimeoutMs: 0 },
        )
      : ctx.db
    const client = await db.connect().catch(async (error) => {
      if (ownsDb) await db.close()
      throw error
    })
    return new SnapshotSession(db, database, client, ownsDb)
  }

  /** Begins the snapshot's transaction and exports it. */
  async begin(): Promise<Snapshot> {
    await this.#sql(BEGIN_SNAPSHOT_SQL, `starting the snapshot of ${this.database}`)
    this.#inTransaction = true
    const [info] = await this.#sql<{ num: string; statement_timeout: string }>(
      SESSION_INFO_SQL,
      `reading the server version of ${this.database}`,
    )
    const [exported] = await this.#sql<{ snapshot: string }>(
      EXPORT_SNAPSHOT_SQL,
      `exporting the snapshot of ${this.database}`,
    )
    return {
      id: String(exported?.snapshot),
      server: serverVersionOf(Number(info?.num)),
      // pg_dump turns statement_timeout off itself, but only after its first queries.
      pgOptions: info?.statement_timeout !== '0' ? NO_TIMEOUTS_PGOPTIONS : undefined,
    }
  }

  /** Row counts of the user tables, in the snapshot (exact below `exactBelow` rows). */
  countTables(ctx: Context, exactBelow: number): Promise<TableCount[]> {
    const warn = (message: string) => ctx.logger.warn(`${this.database}: ${message}`)
    return countTables(this.#client, exactBelow, ctx.signal, warn).catch((error) => {
      throw this.#lost
        ? explainSqlError(this.#lost, `counting the rows of ${this.database}`)
        : error
    })
  }

  async commit(): Promise<void> {
    await this.#sql('commit', `ending the snapshot of ${this.database}`)
    this.#inTransaction = false
  }

  /** Ends the session: a transaction still open is cancelled (a count may be running) and rolled back. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#inTransaction) {
      await cancelBackend(this.db, this.#client)
      await this.#client.query('rollback').catch(() => {})
    }
    this.#client.off('error', this.#onError)
    this.#client.release(this.#lost)
    if (this.#ownsDb) await this.db.close()
  }

  async #sql<R extends Record<string, unknown>>(text: string, doing: string): Promise<R[]> {
    try {
      return (await this.#client.query<R>(text)).rows
    } catch (error) {
      throw explainSqlError(this.#lost ?? error, doing)
    }
  }
}
