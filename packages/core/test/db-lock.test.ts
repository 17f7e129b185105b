import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  Db,
  DbopsError,
  lockKey,
  takeAdvisoryLock,
  type LockConnection,
  type LockHolder,
} from '../src/plugin-kit.ts'
import { connectionSchema, poolSchema } from '../src/config/schema.ts'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import { waitFor } from './wait.ts'

let db: TestDatabase
let conn: Db
const key = lockKey('lock-test')

test.before(async () => {
  db = await createTestDatabase('lock')
  conn = new Db(
    connectionSchema.parse({ url: db.url, applicationName: 'dbops-test' }),
    poolSchema.parse({}),
  )
})
test.after(async () => {
  await conn.close()
  await db.drop()
})

const advisoryLocks = async () =>
  (await db.query(`select count(*)::int as n from pg_locks where locktype = 'advisory'`)).rows[0]!
    .n as number

async function errorOf(promise: Promise<unknown>): Promise<DbopsError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  assert.instance(error, DbopsError)
  return error as DbopsError
}

test('one lock for every connection: a session, a raw pg client; fail fast names the holder', async () => {
  const holder = await conn.session({ applicationName: 'deploy-bot' })
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  try {
    const held = await takeAdvisoryLock(holder, key, { name: 'lock-test' })
    const error = await errorOf(takeAdvisoryLock(client, key, { name: 'lock-test' }))
    assert.is(error.code, 'LOCK_HELD', error.message)
    assert.match(
      error.message,
      new RegExp(
        `^the "lock-test" lock is held by pid ${holder.pid} \\(deploy-bot from 127\\.0\\.0\\.1, connected since \\d{4}-`,
      ),
    )
    assert.ok(error.hint)
    await held.release()
    const mine = await takeAdvisoryLock(client, key, { name: 'lock-test' })
    assert.ok(mine.waitedMs >= 0)
    await mine.release()
    assert.is(await advisoryLocks(), 0)
  } finally {
    await client.end()
    await holder.close()
  }
})

test('a bounded wait: onWait hears of the holder once, and the lock is taken when it is released', async () => {
  const first = await conn.session({ applicationName: 'first-runner' })
  const second = await conn.session()
  try {
    const held = await takeAdvisoryLock(first, key, { name: 'lock-test' })
    const heard: Array<LockHolder | undefined> = []
    const waiting = takeAdvisoryLock(second, key, {
      name: 'lock-test',
      waitMs: 20_000,
      pollMs: 50,
      onWait: (h) => {
        heard.push(h)
        void held.release()
      },
    })
    const lock = await waiting
    assert.is(heard.length, 1)
    assert.is(heard[0]?.pid, first.pid)
    assert.is(heard[0]?.applicationName, 'first-runner')
    assert.instance(heard[0]?.activeSince, Date)
    await lock.release()
  } finally {
    await first.close()
    await second.close()
  }
})

test("a plugin's own errors replace the kit's; a wait runs out after waitMs", async () => {
  const first = await conn.session()
  const second = await conn.session()
  try {
    await takeAdvisoryLock(first, key, { name: 'lock-test' })
    const started = Date.now()
    const error = await errorOf(
      takeAdvisoryLock(second, key, {
        name: 'lock-test',
        waitMs: 300,
        pollMs: 50,
        errors: {
          held: (holder, waitedMs) =>
            new DbopsError('MY_LOCK_HELD', `pid ${holder?.pid} after ${waitedMs >= 300}`),
        },
      }),
    )
    assert.ok(Date.now() - started >= 300)
    assert.is(error.code, 'MY_LOCK_HELD')
    assert.is(error.message, `pid ${first.pid} after true`)
  } finally {
    await first.close()
    await second.close()
  }
  await waitFor(
    'closing the session to release its lock',
    async () => (await advisoryLocks()) === 0,
  )
})

test('behind a transaction-mode pooler (each statement on another connection) the lock is refused', async () => {
  const a = await conn.session()
  const b = await conn.session()
  let turn = 0
  // What PgBouncer in transaction mode does to a client: consecutive statements may land on
  // different server connections.
  const pooled: LockConnection = {
    query: (sql, params) => [a, b][turn++ % 2]!.query(sql, params),
  }
  try {
    const error = await errorOf(takeAdvisoryLock(pooled, key, { name: 'lock-test' }))
    assert.is(error.code, 'LOCK_POOLER')
    assert.match(error.message, /the next query ran on another/)
    assert.match(error.hint ?? '', /PgBouncer/)
  } finally {
    await a.close()
    await b.close()
  }
})

test('waiting for a lock ends at once when the signal aborts', async () => {
  const first = await conn.session()
  const second = await conn.session()
  try {
    await takeAdvisoryLock(first, key, { name: 'lock-test' })
    const controller = new AbortController()
    const reason = new Error('interrupted')
    const waiting = takeAdvisoryLock(second, key, {
      name: 'lock-test',
      waitMs: 60_000,
      signal: controller.signal,
      onWait: () => controller.abort(reason),
    }).catch((e: unknown) => e)
    assert.is(await waiting, reason)
  } finally {
    await first.close()
    await second.close()
  }
})

test("withLock runs `fn` on the lock's own session, and leaves nothing behind", async () => {
  const pid = await conn.withLock('with-lock', async (session) => {
    const { rows } = await session.query<{ n: number }>(
      `select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`,
    )
    assert.is(rows[0]!.n, 1)
    return session.pid
  })
  assert.type(pid, 'number')
  assert.is(await advisoryLocks(), 0, 'released before the session closed')
  await waitFor(
    'its session to close',
    async () =>
      (await db.query(`select count(*)::int as n from pg_stat_activity where pid = $1`, [pid]))
        .rows[0]!.n === 0,
  )
})

test.run()
