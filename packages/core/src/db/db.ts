import type pg from 'pg'
import type { ConnectionConfig, PoolConfig } from '../config/schema.ts'
import { DbopsError } from '../errors.ts'
import {
  clientConfig,
  describeTarget,
  libpqEnv,
  resolveTarget,
  type ConnectionTarget,
} from './connection.ts'
import { cancelBackend } from './cancel.ts'
import { explainConnectionError, isConnectionError } from './errors.ts'
import { loadPg } from './load-pg.ts'
import { lockKey, takeAdvisoryLock, type LockOptions } from './lock.ts'
import { openSession, type DbSession, type SessionOptions } from './session.ts'

export { cancelBackend }

export type Row = Record<string, unknown>
export interface QueryOptions {
  /** Aborting cancels the statement on the server (pg_cancel_backend). */
  signal?: AbortSignal
}

/** Something that runs a query: the primary, the read route, or one client. */
export interface Queryable {
  query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<pg.QueryResult<R>>
}

export interface PoolStats {
  total: number
  idle: number
  waiting: number
  max: number
  queries: number
  errors: number
  totalQueryMs: number
  slowestQueryMs: number
}

/**
 * The database of a run: one pool to the primary and, when `readReplicaUrl` is set, one to
 * the replica. Pools open lazily, so commands that never query never connect.
 */
export class Db implements Queryable {
  readonly target: ConnectionTarget
  readonly replicaTarget: ConnectionTarget | undefined
  readonly poolConfig: PoolConfig
  private primaryPool: pg.Pool | undefined
  private replicaPool: pg.Pool | undefined
  private replicaDownUntil = 0
  private readonly counters = { queries: 0, errors: 0, totalQueryMs: 0, slowestQueryMs: 0 }

  constructor(connection: ConnectionConfig, pool: PoolConfig) {
    this.target = resolveTarget(connection)
    this.replicaTarget = connection.readReplicaUrl
      ? resolveTarget(connection, connection.readReplicaUrl)
      : undefined
    this.poolConfig = pool
  }

  /** `user@host:port/db`, safe to print. */
  get description(): string {
    return describeTarget(this.target)
  }

  /** Environment for libpq child processes (pg_dump, pg_restore, psql): password included. */
  libpqEnv(target: ConnectionTarget = this.target): Record<string, string> {
    return libpqEnv(target)
  }

  query<R extends Row = Row>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<pg.QueryResult<R>> {
    return this.run(this.primary(), this.target, sql, params, options)
  }

  /** Reads that may go to the read replica; falls back to the primary while it is down. */
  get read(): Queryable {
    return {
      query: async <R extends Row = Row>(
        sql: string,
        params?: readonly unknown[],
        options?: QueryOptions,
      ) => {
        if (!this.replicaTarget || Date.now() < this.replicaDownUntil)
          return this.query<R>(sql, params, options)
        try {
          return await this.run<R>(this.replica(), this.replicaTarget, sql, params, options)
        } catch (error) {
          if (
            !isConnectionError(error) &&
            !(error instanceof DbopsError && error.code.startsWith('DB_'))
          )
            throw error
          this.replicaDownUntil = Date.now() + 30_000
          return this.query<R>(sql, params, options)
        }
      },
    }
  }

  /** A client of the primary pool for work that needs one session; released afterwards. */
  async withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect()
    try {
      return await fn(client)
    } finally {
      client.release()
    }
  }

  async connect(): Promise<pg.PoolClient> {
    try {
      return await this.primary().connect()
    } catch (error) {
      throw explainConnectionError(error, this.target)
    }
  }

  /**
   * A dedicated connection of its own, outside the pool: for work that is long (a REINDEX of
   * hours), holds session state (settings, an advisory lock, a snapshot) or must not be cut by
   * the pool's query timeout. Its timeouts are set on the server, per session. Close it.
   */
  session(options: SessionOptions = {}): Promise<DbSession> {
    const target = options.database ? { ...this.target, database: options.database } : this.target
    return openSession(target, this.poolConfig.connectTimeoutMs, this, options)
  }

  /**
   * Runs `fn` holding the session advisory lock `name` (see lock.ts) on a session of its own,
   * which `fn` may use; the lock is released and the session closed afterwards.
   */
  async withLock<T>(
    name: string,
    fn: (session: DbSession) => Promise<T>,
    options: LockOptions = {},
  ): Promise<T> {
    const session = await this.session()
    try {
      const lock = await takeAdvisoryLock(session, lockKey(name), { ...options, name })
      try {
        return await fn(session)
      } finally {
        await lock.release()
      }
    } finally {
      await session.close()
    }
  }

  /** Checks that the primary answers; throws the explained connection error if not. */
  async ping(): Promise<number> {
    const started = performance.now()
    await this.query('select 1')
    return performance.now() - started
  }

  stats(): PoolStats {
    const pool = this.primaryPool
    return {
      total: pool?.totalCount ?? 0,
      idle: pool?.idleCount ?? 0,
      waiting: pool?.waitingCount ?? 0,
      max: this.poolConfig.max,
      ...this.counters,
    }
  }

  async close(): Promise<void> {
    const pools = [this.primaryPool, this.replicaPool]
    this.primaryPool = undefined
    this.replicaPool = undefined
    await Promise.all(pools.map((p) => p?.end()))
  }

  private primary(): pg.Pool {
    this.primaryPool ??= this.createPool(this.target)
    return this.primaryPool
  }

  private replica(): pg.Pool {
    this.replicaPool ??= this.createPool(this.replicaTarget!)
    return this.replicaPool
  }

  private createPool(target: ConnectionTarget): pg.Pool {
    const pool = new (loadPg().Pool)({
      ...clientConfig(target, this.poolConfig),
      max: this.poolConfig.max,
      idleTimeoutMillis: this.poolConfig.idleTimeoutMs,
      maxLifetimeSeconds: Math.ceil(this.poolConfig.maxLifetimeMs / 1000) || undefined,
    })
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', () => {})
    // Nor may a checked-out one: pg emits 'error' on a client whose connection ends, and the
    // pool listens only while the client is idle. Its queries still fail with the error.
    pool.on('connect', (client) => client.on('error', () => {}))
    return pool
  }

  private async run<R extends Row>(
    pool: pg.Pool,
    target: ConnectionTarget,
    sql: string,
    params: readonly unknown[] | undefined,
    options: QueryOptions | undefined,
  ): Promise<pg.QueryResult<R>> {
    options?.signal?.throwIfAborted()
    let client: pg.PoolClient
    try {
      client = await pool.connect()
    } catch (error) {
      throw explainConnectionError(error, target)
    }
    const started = performance.now()
    const cancel = () => void cancelBackend(pool, client)
    options?.signal?.addEventListener('abort', cancel, { once: true })
    try {
      return await client.query<R>(sql, params as unknown[] | undefined)
    } catch (error) {
      this.counters.errors++
      if (options?.signal?.aborted) throw options.signal.reason
      throw error
    } finally {
      options?.signal?.removeEventListener('abort', cancel)
      const ms = performance.now() - started
      this.counters.queries++
      this.counters.totalQueryMs += ms
      this.counters.slowestQueryMs = Math.max(this.counters.slowestQueryMs, ms)
      client.release()
    }
  }
}
