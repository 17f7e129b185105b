import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Db, DbopsError, type DbSession } from '../src/plugin-kit.ts'
import { connectionSchema, poolSchema } from '../src/config/schema.ts'
import { createTestDatabase, TEST_PASSWORD, type TestDatabase } from '@dbops/test-utils'
import { waitFor } from './wait.ts'

let db: TestDatabase
let other: TestDatabase
let conn: Db

const open = (url: string, pool: Record<string, unknown> = {}) =>
  new Db(connectionSchema.parse({ url, applicationName: 'dbops-test' }), poolSchema.parse(pool))

test.before(async () => {
  db = await createTestDatabase('session')
  other = await createTestDatabase('session_other')
  conn = open(db.passwordUrl)
})
test.after(async () => {
  await conn.close()
  await other.drop()
  await db.drop()
})

const settingsOf = async (session: DbSession) =>
  (
    await session.query<{ app: string; st: string; lt: string; it: string; db: string }>(
      `select current_setting('application_name') as app, current_setting('statement_timeout') as st,
              current_setting('lock_timeout') as lt, current_setting('idle_in_transaction_session_timeout') as it,
              current_database() as db`,
    )
  ).rows[0]!

test('a session is a connection of its own, with its application_name and server-side timeouts', async () => {
  const session = await conn.session({
    applicationName: 'dbops-maintenance',
    timeouts: { statementMs: 60_000, lockMs: 1500, idleInTransactionMs: 0 },
  })
  try {
    assert.equal(await settingsOf(session), {
      app: 'dbops-maintenance',
      st: '1min',
      lt: '1500ms',
      it: '0',
      db: db.name,
    })
    assert.is(
      (await session.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid,
      session.pid,
    )
    assert.is(conn.stats().total, 0, 'not a client of the pool')
    await session.setTimeouts({ lockMs: 250 })
    await session.set({ maintenance_work_mem: '96MB' })
    const after = await session.query<{ lt: string; st: string; mwm: string }>(
      `select current_setting('lock_timeout') as lt, current_setting('statement_timeout') as st, current_setting('maintenance_work_mem') as mwm`,
    )
    assert.equal(after.rows[0], { lt: '250ms', st: '1min', mwm: '96MB' })
  } finally {
    await session.close()
  }
})

test('timeouts of 0 turn off what the database sets for every session; unset ones keep it', async () => {
  await db.query(`alter database ${db.name} set statement_timeout = '7s'`)
  await db.query(`alter database ${db.name} set lock_timeout = '3s'`)
  const session = await conn.session({ timeouts: { statementMs: 0 } })
  try {
    const s = await settingsOf(session)
    assert.equal([s.app, s.st, s.lt], ['dbops-test', '0', '3s'])
  } finally {
    await session.close()
    await db.query(`alter database ${db.name} reset statement_timeout`)
    await db.query(`alter database ${db.name} reset lock_timeout`)
  }
})

test('`database` opens the session on another database of the same server', async () => {
  const session = await conn.session({ database: other.name })
  try {
    assert.is((await settingsOf(session)).db, other.name)
    assert.is(session.target.database, other.name)
    assert.is(conn.libpqEnv(session.target).PGDATABASE, other.name)
  } finally {
    await session.close()
  }
})

test('an aborted statement is cancelled on the server, and the session goes on', async () => {
  const session = await conn.session()
  try {
    const controller = new AbortController()
    const sleeping = session
      .query('select pg_sleep(30)', [], { signal: controller.signal })
      .catch((e: unknown) => e)
    await waitFor(
      'the sleep to run',
      async () =>
        (
          await db.query(
            `select count(*)::int as n from pg_stat_activity where pid = $1 and wait_event = 'PgSleep'`,
            [session.pid],
          )
        ).rows[0]!.n === 1,
    )
    const reason = new Error('stop')
    controller.abort(reason)
    assert.is(await sleeping, reason)
    assert.is((await session.query<{ one: number }>('select 1 as one')).rows[0]!.one, 1)
  } finally {
    await session.close()
  }
})

test('a statement past statement_timeout fails with the server error (57014)', async () => {
  const session = await conn.session({ timeouts: { statementMs: 100 } })
  try {
    const error = (await session.query('select pg_sleep(5)').catch((e: unknown) => e)) as {
      code?: string
      message: string
    }
    assert.is(error.code, '57014')
    assert.match(error.message, /statement timeout/)
  } finally {
    await session.close()
  }
})

test('a session the server ended fails its next statement with what ended it, not "not queryable"', async () => {
  const session = await conn.session()
  try {
    await db.query('select pg_terminate_backend($1)', [session.pid])
    await waitFor(
      'the backend to end',
      async () =>
        (
          await db.query(`select count(*)::int as n from pg_stat_activity where pid = $1`, [
            session.pid,
          ])
        ).rows[0]!.n === 0,
    )
    for (let i = 0; i < 2; i++) {
      const error = (await session.query('select 1').catch((e: unknown) => e)) as {
        code?: string
        message: string
      }
      assert.is(error.code, '57P01', error.message)
      assert.match(error.message, /terminating connection due to administrator command/)
    }
  } finally {
    await session.close()
    await session.close() // twice is fine
  }
})

test('a session that cannot connect says why in a sentence, without the password', async () => {
  const wrong = open(
    db.passwordUrl.replace(encodeURIComponent(TEST_PASSWORD), 'wrong-password-123'),
  )
  try {
    const error = await wrong.session().catch((e: unknown) => e)
    assert.instance(error, DbopsError)
    assert.is((error as DbopsError).code, 'DB_AUTH_FAILED')
    assert.match((error as DbopsError).message, /password authentication failed for user/)
    assert.not.match(String((error as DbopsError).message), 'wrong-password-123')
  } finally {
    await wrong.close()
  }
})

test.run()
