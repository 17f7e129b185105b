import { createHash } from 'node:crypto'
import { DbopsError } from '../errors.ts'

export interface LockOptions {
  /** How long to keep trying; 0 fails at once when another session holds the lock. */
  waitMs?: number
  /** The longest pause between two tries: they start 50 ms apart and back off, with jitter. */
  pollMs?: number
  signal?: AbortSignal
}

/**
 * The one connection a lock's statements run on, in order: a `DbSession`, a pg client, or a
 * plugin's own connection (migrate's postgres.js session) behind this one method. A session
 * lock protects only what runs on the connection that holds it.
 */
export interface LockConnection {
  query(
    sql: string,
    params: readonly string[],
  ): Promise<{ rows: readonly Record<string, unknown>[] }>
}

/** The session holding a lock, as pg_stat_activity shows it. */
export interface LockHolder {
  pid: number
  applicationName: string
  clientAddr: string | null
  state: string | null
  /** When its connection opened. */
  backendStart: Date
  /** When its transaction, or else its last statement, began. */
  activeSince: Date
}

/** The errors of a lock, in the words of whoever takes it. */
export interface LockErrors {
  /** Another session still held it when the wait ran out. */
  held(holder: LockHolder | undefined, waitedMs: number): Error
  /** The statement after the lock ran on another server connection: a transaction-mode pooler. */
  pooler(): Error
}

export interface TakeLockOptions extends LockOptions {
  /** How the kit's errors name the lock: `the "maintenance" lock is held by ...`. */
  name: string
  /** Called once, with the holder, when the lock is taken and will be waited for. */
  onWait?: (holder: LockHolder | undefined) => void
  /** A plugin's own errors (its codes, its words); the kit's by default. */
  errors?: Partial<LockErrors>
}

export interface HeldLock {
  /** How long it took to get the lock. */
  waitedMs: number
  /**
   * Unlocks. Never throws: when the unlock cannot run (the connection is gone), ending the
   * connection is what releases the lock on the server, so close it.
   */
  release(): Promise<void>
}

/** A stable signed 64-bit advisory lock key for a name, the same in every dbops process. */
export function lockKey(name: string): bigint {
  return createHash('sha256').update(`dbops:${name}`).digest().readBigInt64BE(0)
}

const TRY_LOCK = 'select pg_try_advisory_lock($1::bigint) as locked'
const UNLOCK = 'select pg_advisory_unlock($1::bigint)'
// An int8 advisory lock is stored as classid = high 32 bits, objid = low 32 bits, objsubid 1,
// in the current database.
const LOCK_IS = `l.locktype = 'advisory' and l.granted and l.objsubid = 1
     and l.classid = (($1::bigint >> 32) & 4294967295)::oid and l.objid = ($1::bigint & 4294967295)::oid
     and l.database = (select oid from pg_database where datname = current_database())`
const HELD_BY_THIS_SESSION = `select exists (select 1 from pg_locks l where ${LOCK_IS} and l.pid = pg_backend_pid()) as held`
const LOCK_HOLDER = `
  select a.pid, a.application_name, host(a.client_addr) as client_addr, a.state, a.backend_start,
         coalesce(a.xact_start, a.query_start, a.backend_start) as active_since
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
   where ${LOCK_IS}
   limit 1`

/**
 * Takes a session advisory lock on `conn` by polling `pg_try_advisory_lock`, backing off with
 * jitter, until `waitMs` passes; then fails naming who holds it. Never a blocking
 * `pg_advisory_lock`: a session blocked in it is a transaction that a concurrent CREATE INDEX
 * CONCURRENTLY would wait for, forever. Once taken, checks from the next statement that this
 * backend holds it, and refuses to go on behind a transaction-mode pooler, where the next
 * statement may run on another server connection. Release it in `finally`.
 */
export async function takeAdvisoryLock(
  conn: LockConnection,
  key: bigint,
  options: TakeLockOptions,
): Promise<HeldLock> {
  const { waitMs = 0, pollMs = 1000, signal } = options
  const errors = { ...kitLockErrors(options.name, waitMs), ...options.errors }
  const params = [key.toString()]
  const started = Date.now()
  let pause = Math.min(50, pollMs)
  let told = false
  for (;;) {
    signal?.throwIfAborted()
    const { rows } = await conn.query(TRY_LOCK, params)
    if (rows[0]?.locked === true) break
    const waited = Date.now() - started
    if (waited >= waitMs) throw errors.held(await lockHolder(conn, params), waited)
    if (!told && options.onWait) {
      told = true
      options.onWait(await lockHolder(conn, params))
    }
    await sleep(Math.min(pause * (0.5 + Math.random()), pollMs, waitMs - waited + 1), signal)
    pause = Math.min(pause * 2, pollMs)
  }
  const lock: HeldLock = {
    waitedMs: Date.now() - started,
    release: async () => {
      await conn.query(UNLOCK, params).catch(() => {})
    },
  }
  try {
    const { rows } = await conn.query(HELD_BY_THIS_SESSION, params)
    if (rows[0]?.held !== true) throw errors.pooler()
  } catch (error) {
    await lock.release()
    throw error
  }
  return lock
}

async function lockHolder(
  conn: LockConnection,
  params: readonly string[],
): Promise<LockHolder | undefined> {
  const row = (await conn.query(LOCK_HOLDER, params).catch(() => ({ rows: [] }))).rows[0]
  if (!row) return undefined
  return {
    pid: Number(row.pid),
    applicationName: String(row.application_name ?? ''),
    clientAddr: row.client_addr ? String(row.client_addr) : null,
    state: row.state ? String(row.state) : null,
    backendStart: new Date(row.backend_start as string),
    activeSince: new Date(row.active_since as string),
  }
}

/** The kit's errors: LOCK_HELD names the holder's pid, application and connection time. */
function kitLockErrors(name: string, waitMs: number): LockErrors {
  return {
    held(holder) {
      const waited = waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)}s` : ''
      const from = holder?.clientAddr ? ` from ${holder.clientAddr}` : ''
      const who = holder
        ? `pid ${holder.pid} (${holder.applicationName || 'no application_name'}${from}, connected since ${holder.backendStart.toISOString()})`
        : 'another session'
      return new DbopsError('LOCK_HELD', `the "${name}" lock is held by ${who}${waited}`, {
        hint: 'Another dbops run is in progress. Wait for it, or stop it if it is stuck (pg_terminate_backend on that pid).',
      })
    },
    pooler: () =>
      new DbopsError(
        'LOCK_POOLER',
        `the "${name}" lock was taken on one server connection and the next query ran on another: the connection goes through a transaction-mode pooler`,
        { hint: POOLER_HINT },
      ),
  }
}

/** What to do about a lock behind a transaction-mode pooler (PgBouncer). */
export const POOLER_HINT =
  'Point dbops at the database directly (not through PgBouncer in transaction mode), e.g. a DIRECT_URL next to the pooled DATABASE_URL.'

/** A sleep that ends early, with the abort reason, when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
