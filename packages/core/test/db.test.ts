import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Db, DbopsError } from '../src/plugin-kit.ts'
import { connectionSchema, poolSchema } from '../src/config/schema.ts'
import {
  createTestDatabase,
  makeWorkdir,
  runCli,
  TEST_PASSWORD,
  type TestDatabase,
} from '@dbops/test-utils'

let db: TestDatabase
const open = (
  url: string,
  pool: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) =>
  new Db(
    connectionSchema.parse({ url, applicationName: 'dbops-test', ...extra }),
    poolSchema.parse(pool),
  )

test.before(async () => {
  db = await createTestDatabase('db')
})
test.after(async () => db.drop())

async function errorOf(fn: () => Promise<unknown>): Promise<DbopsError> {
  try {
    await fn()
  } catch (error) {
    assert.instance(error, DbopsError)
    return error as DbopsError
  }
  throw new Error('expected an error')
}

test('connection errors are sentences with a hint, and never print the password', async () => {
  const cases: [string, string, RegExp][] = [
    [
      `postgres://dbops_test:wrong-password-123@127.0.0.1:${db.cluster.port}/${db.name}`,
      'DB_AUTH_FAILED',
      /password authentication failed for user "dbops_test"/,
    ],
    [
      `postgres://dbops_test:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:${db.cluster.port}/no_such_db`,
      'DB_MISSING',
      /database "no_such_db" does not exist/,
    ],
    [
      `postgres://dbops_test:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:9/${db.name}`,
      'DB_REFUSED',
      /nothing accepts connections at 127\.0\.0\.1:9/,
    ],
    [
      `postgres://dbops_test:${encodeURIComponent(TEST_PASSWORD)}@no-such-host.invalid:5432/${db.name}`,
      'DB_HOST_UNKNOWN',
      /could not be resolved/,
    ],
    [
      `postgres://dbops_ssl:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:${db.cluster.port}/${db.name}`,
      'DB_SSL_REQUIRED',
      /requires SSL/,
    ],
  ]
  for (const [url, code, message] of cases) {
    const conn = open(url, { connectTimeoutMs: 3000 })
    const error = await errorOf(() => conn.query('select 1'))
    await conn.close()
    assert.is(error.code, code, url)
    assert.match(error.message, message)
    assert.ok(error.hint, `${code} has a hint`)
    for (const secret of ['wrong-password-123', TEST_PASSWORD]) {
      assert.not.ok(
        `${error.message} ${error.hint} ${String((error.cause as Error)?.message)}`.includes(
          secret,
        ),
        `${code} leaks the password`,
      )
    }
  }
})

test('SSL: a self-signed server certificate is refused when verifying, accepted when told not to', async () => {
  const url = `postgres://dbops_ssl:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:${db.cluster.port}/${db.name}`
  const strict = open(url, {}, { ssl: { rejectUnauthorized: true } })
  const error = await errorOf(() => strict.query('select 1'))
  await strict.close()
  assert.is(error.code, 'DB_SSL_CERT')
  assert.match(error.hint ?? '', /ssl\.ca/)
  const relaxed = open(url, {}, { ssl: { rejectUnauthorized: false } })
  const { rows } = await relaxed.query<{ ssl: boolean }>(
    'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
  )
  assert.is(rows[0]!.ssl, true)
  await relaxed.close()
  const viaUrl = open(`${url}?sslmode=require`)
  assert.is(
    (
      await viaUrl.query<{ ssl: boolean }>(
        'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
      )
    ).rows[0]!.ssl,
    true,
  )
  await viaUrl.close()
})

test('the CLI prints a connection error as a sentence without the password, exit 1', async () => {
  const plugin = new URL('./fixtures/steps-plugin.ts', import.meta.url).pathname
  const work = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nimport steps from '${plugin}'\nexport default defineConfig({ connection: { url: env('DATABASE_URL') }, plugins: [steps()], pipelines: { p: ['steps:ok'] } })\n`,
  })
  try {
    const url = `postgres://dbops_test:wrong-password-123@127.0.0.1:${db.cluster.port}/${db.name}`
    for (const json of [false, true]) {
      const result = await runCli(['run', 'p', ...(json ? ['--json'] : [])], {
        cwd: work.dir,
        env: { DATABASE_URL: url },
      })
      assert.is(result.code, 1)
      assert.match(result.stdout + result.stderr, /password authentication failed/)
      assert.not.match(result.stdout + result.stderr, 'wrong-password-123')
    }
  } finally {
    await work.remove()
  }
})

test('pool settings reach the server: application_name, statement timeout, max connections', async () => {
  const conn = open(db.passwordUrl, { max: 3, statementTimeoutMs: 1500 })
  const { rows } = await conn.query<{ app: string; st: string }>(
    `select current_setting('application_name') as app, current_setting('statement_timeout') as st`,
  )
  assert.equal(rows[0], { app: 'dbops-test', st: '1500ms' })
  const slow = await conn.query('select pg_sleep(3)').catch((e: Error) => e)
  assert.match(String((slow as Error).message), /statement timeout/)
  await Promise.all(Array.from({ length: 8 }, () => conn.query('select pg_sleep(0.2)')))
  const stats = conn.stats()
  assert.ok(stats.total <= 3, `at most 3 connections, saw ${stats.total}`)
  assert.ok(stats.queries >= 10)
  assert.is(stats.max, 3)
  await conn.close()
})

test('connections older than maxLifetimeMs are replaced', async () => {
  const conn = open(db.url, { max: 1, maxLifetimeMs: 1000 })
  const pid = async () =>
    (await conn.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
  const first = await pid()
  assert.is(await pid(), first, 'a young connection is reused')
  await new Promise((r) => setTimeout(r, 1600))
  assert.is.not(await pid(), first)
  await conn.close()
})

test('an aborted query is cancelled on the server', async () => {
  const conn = open(db.url)
  const controller = new AbortController()
  const started = Date.now()
  setTimeout(() => controller.abort(new Error('stop')), 300)
  const error = await conn
    .query('select pg_sleep(10)', [], { signal: controller.signal })
    .catch((e: Error) => e)
  assert.is((error as Error).message, 'stop')
  assert.ok(Date.now() - started < 3000)
  await conn.close()
})

test('withLock: fail fast names the holder; bounded wait gives up after the wait; released afterwards', async () => {
  const a = open(db.url)
  const b = open(db.url, {}, { applicationName: 'second-runner' })
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  let entered!: () => void
  const inside = new Promise<void>((r) => (entered = r))
  const holder = a.withLock('migrate', async () => {
    entered()
    await held
    return 'first'
  })
  await inside
  const fast = await errorOf(() => b.withLock('migrate', async () => 'second'))
  assert.is(fast.code, 'LOCK_HELD')
  assert.match(fast.message, /the "migrate" lock is held by pid \d+ \(dbops-test/)
  const started = Date.now()
  const bounded = await errorOf(() =>
    b.withLock('migrate', async () => 'second', { waitMs: 800, pollMs: 100 }),
  )
  assert.ok(Date.now() - started >= 800)
  assert.match(bounded.message, /after waiting/)
  assert.is(await b.withLock('other-name', async () => 'independent'), 'independent')
  const waiting = b.withLock('migrate', async () => 'second', { waitMs: 5000, pollMs: 50 })
  setTimeout(release, 200)
  assert.is(await holder, 'first')
  assert.is(await waiting, 'second')
  const { rows } = await db.query(
    `select count(*)::int as n from pg_locks where locktype = 'advisory'`,
  )
  assert.is(rows[0]!.n, 0, 'no advisory lock left behind')
  await a.close()
  await b.close()
})

test('reads go to the replica, and to the primary while the replica is down', async () => {
  const replicaDb = await createTestDatabase('replica')
  await replicaDb.query(`create table whoami as select 'replica' as name`)
  await db.query(`create table if not exists whoami as select 'primary' as name`)
  const conn = open(db.url, { connectTimeoutMs: 2000 }, { readReplicaUrl: replicaDb.url })
  assert.is(
    (await conn.read.query<{ name: string }>('select name from whoami')).rows[0]!.name,
    'replica',
  )
  await conn.close()
  const down = open(
    db.url,
    { connectTimeoutMs: 2000 },
    { readReplicaUrl: `postgres://postgres@127.0.0.1:9/${db.name}` },
  )
  assert.is(
    (await down.read.query<{ name: string }>('select name from whoami')).rows[0]!.name,
    'primary',
  )
  await down.close()
  await replicaDb.drop()
})

test('libpqEnv carries the password for child processes; description never does', async () => {
  const conn = open(db.passwordUrl)
  assert.is(conn.libpqEnv().PGPASSWORD, TEST_PASSWORD)
  assert.is(conn.libpqEnv().PGDATABASE, db.name)
  assert.not.match(conn.description, TEST_PASSWORD)
  await conn.close()
})

test.run()
