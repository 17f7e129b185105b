import { createHash } from 'node:crypto'
import type pg from 'pg'
import { DbopsError } from '../errors.ts'
import type { Db } from './db.ts'

export interface LockOptions {
  /** How long to keep trying; 0 fails at once when another session holds the lock. */
  waitMs?: number
  /** Poll interval while waiting. */
  pollMs?: number
  signal?: AbortSignal
}

/** A stable signed 64-bit advisory lock key for a name, the same in every dbops process. */
export function lockKey(name: string): bigint {
  return createHash('sha256').update(`dbops:${name}`).digest().readBigInt64BE(0)
}

const TRY_LOCK = 'select pg_try_advisory_lock($1::bigint) as locked'
const UNLOCK = 'select pg_advisory_unlock($1::bigint)'
// An int8 advisory lock is stored as classid = high 32 bits, objid = low 32 bits, objsubid 1.
const LOCK_HOLDER = `
  select a.pid, a.application_name, a.client_addr::text as client_addr, a.backend_start, a.state, a.query_start
    from pg_locks l join pg_stat_activity a on a.pid = l.pid
   where l.locktype = 'advisory' and l.granted and l.objsubid = 1
     and l.classid = (($1::bigint >> 32) & 4294967295)::oid and l.objid = ($1::bigint & 4294967295)::oid
   limit 1`

/**
 * Session advisory lock on a dedicated client. Polls `pg_try_advisory_lock` (a blocking
 * `pg_advisory_lock` can deadlock against CREATE INDEX CONCURRENTLY) until `waitMs`
 * passes, then fails with an error naming who holds it. Released in `finally`; the client
 * is destroyed rather than returned if the unlock fails, so a lock never outlives us.
 */
export async function withAdvisoryLock<T>(
  db: Db,
  name: string,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: LockOptions = {},
): Promise<T> {
  const key = lockKey(name).toString()
  const { waitMs = 0, pollMs = 250, signal } = options
  const client = await db.connect()
  let locked = false
  let broken: Error | undefined
  try {
    const deadline = Date.now() + waitMs
    for (;;) {
      signal?.throwIfAborted()
      const { rows } = await client.query<{ locked: boolean }>(TRY_LOCK, [key])
      if (rows[0]?.locked) break
      if (Date.now() >= deadline) throw await lockHeldError(client, name, key, waitMs)
      await sleep(Math.min(pollMs, Math.max(deadline - Date.now(), 1)), signal)
    }
    locked = true
    return await fn(client)
  } finally {
    if (locked) {
      try {
        await client.query(UNLOCK, [key])
      } catch (error) {
        broken = error as Error
      }
    }
    client.release(broken)
  }
}

async function lockHeldError(
  client: pg.PoolClient,
  name: string,
  key: string,
  waitMs: number,
): Promise<DbopsError> {
  const { rows } = await client.query(LOCK_HOLDER, [key]).catch(() => ({ rows: [] as Row[] }))
  const holder = rows[0] as Row | undefined
  const waited = waitMs > 0 ? ` after waiting ${Math.round(waitMs / 1000)}s` : ''
  const who = holder
    ? `pid ${holder.pid} (${holder.application_name || 'no application_name'}${holder.client_addr ? ` from ${holder.client_addr}` : ''}, connected since ${new Date(holder.backend_start as string).toISOString()})`
    : 'another session'
  return new DbopsError('LOCK_HELD', `the "${name}" lock is held by ${who}${waited}`, {
    hint: 'Another dbops run is in progress. Wait for it, or stop it if it is stuck (pg_terminate_backend on that pid).',
  })
}

type Row = Record<string, unknown>

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
