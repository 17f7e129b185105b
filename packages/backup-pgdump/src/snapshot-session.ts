import type { Context, DbSession } from 'dbops/plugin'
import { serverVersionOf } from './binaries.ts'
import { explainSqlError } from './sql-errors.ts'
import { countTables, EXPORT_SNAPSHOT_SQL, type TableCount } from './tables.ts'

/** The snapshot's transaction (the session's timeouts are turned off when it opens). */
const BEGIN_SNAPSHOT_SQL = 'begin isolation level repeatable read read only'

/** The server version, and the statement_timeout a new session of this role gets (pg_dump's). */
const SESSION_INFO_SQL = `select current_setting('server_version_num') as num,
  (select reset_val from pg_settings where name = 'statement_timeout') as statement_timeout`

/**
 * A role's statement_timeout would apply to pg_dump's first queries (it turns the timeout off
 * itself only after them). Passed only when one is set: a pooler such as PgBouncer refuses
 * startup options it does not know.
 */
const NO_TIMEOUTS_PGOPTIONS = '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0'

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
 * are of exactly the data in the dump: the kit's dedicated session (`db.session()`), to the
 * run's database or another of the same server. The snapshot lives as long as this session's
 * transaction, so the role's or database's statement_timeout and
 * idle_in_transaction_session_timeout are turned off for it (pg_dump would otherwise fail with
 * "could not import the requested snapshot").
 */
export class SnapshotSession {
  readonly database: string
  readonly #session: DbSession
  /** Aborted on close: cancels on the server a count still running, so the rollback is prompt. */
  readonly #stop = new AbortController()
  #inTransaction = false

  private constructor(database: string, session: DbSession) {
    this.database = database
    this.#session = session
  }

  static async open(ctx: Context, database: string): Promise<SnapshotSession> {
    const session = await ctx.db.session({
      database: database === ctx.db.target.database ? undefined : database,
      timeouts: { statementMs: 0, idleInTransactionMs: 0 },
    })
    return new SnapshotSession(database, session)
  }

  /** Host, port, user and password of the session: pg_dump connects where it is connected. */
  get target(): DbSession['target'] {
    return this.#session.target
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
    const client = {
      query: (text: string, params?: unknown[]) =>
        this.#session.query(text, params, { signal: this.#stop.signal }),
    }
    return countTables(client, exactBelow, ctx.signal, warn)
  }

  async commit(): Promise<void> {
    await this.#sql('commit', `ending the snapshot of ${this.database}`)
    this.#inTransaction = false
  }

  /** Ends the session: a count still running is cancelled, the transaction rolled back. */
  async close(): Promise<void> {
    if (this.#stop.signal.aborted) return
    this.#stop.abort(new Error('the snapshot session closed'))
    if (this.#inTransaction) await this.#session.query('rollback').catch(() => {})
    await this.#session.close()
  }

  async #sql<R extends Record<string, unknown>>(text: string, doing: string): Promise<R[]> {
    try {
      return (await this.#session.query<R>(text)).rows
    } catch (error) {
      throw explainSqlError(error, doing)
    }
  }
}
