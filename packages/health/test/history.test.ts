// Health history: each health:check run recorded in the dbops schema (or a separate
// database), old rows pruned, nothing recorded with history: false or under --dry-run, and
// a store that cannot be written fails the step with a sentence.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase, runCli, type TestDatabase } from '@dbops/test-utils'
import { CATALOG } from '../src/checks/index.ts'
import { healthProject } from './setup.ts'

let db: TestDatabase
let store: TestDatabase

test.before(async () => {
  db = await createTestDatabase('health_history')
  store = await createTestDatabase('health_history_store')
})

test.after(async () => {
  await db?.drop()
  await store?.drop()
})

const count = async (target: TestDatabase, where = 'true') => {
  const { rows } = await target.query<{ exists: boolean }>(
    `select to_regclass('dbops.health_results') is not null as exists`,
  )
  if (!rows[0]!.exists) return 0
  return Number(
    (
      await target.query<{ n: number }>(
        `select count(*)::int as n from dbops.health_results where ${where}`,
      )
    ).rows[0]!.n,
  )
}

test('each health:check run records every check that ran, with the catalog of thresholds and hints', async () => {
  const p = await healthProject()
  try {
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['run', 'health'], {
        cwd: p.dir,
        env: { DATABASE_URL: db.passwordUrl },
      })
      assert.is(r.code, 0, r.stdout + r.stderr)
    }
    const runs = await db.query<{ at: Date; n: number }>(
      `select at, count(*)::int as n from dbops.health_results group by at order by at`,
    )
    assert.is(runs.rows.length, 2)
    assert.ok(runs.rows[0]!.n > 25, String(runs.rows[0]!.n))
    const connection = await db.query(
      `select status, value, message, database from dbops.health_results where check_id = 'connection' limit 1`,
    )
    assert.is(connection.rows[0]!.status, 'ok')
    assert.is(connection.rows[0]!.database, db.name)
    assert.ok(Number(connection.rows[0]!.value) >= 0)
    const catalog = await db.query(
      `select check_id, unit, direction, warning, critical, hint from dbops.health_checks where check_id = 'cache_hit_ratio'`,
    )
    const defined = CATALOG.find((c) => c.id === 'cache_hit_ratio')!
    assert.equal(catalog.rows[0], {
      check_id: 'cache_hit_ratio',
      unit: 'percent',
      direction: 'below',
      warning: defined.defaults.warning,
      critical: defined.defaults.critical,
      hint: defined.hint,
    })
    // `dbops health` (the command) reads, it does not record.
    await runCli(['health'], { cwd: p.dir, env: { DATABASE_URL: db.passwordUrl } })
    assert.is(
      (await db.query(`select count(distinct at)::int as n from dbops.health_results`)).rows[0]!.n,
      2,
    )
  } finally {
    await p.remove()
  }
})

test('results older than retainDays are pruned by the next run', async () => {
  const p = await healthProject(`{ history: { retainDays: 7 } }`)
  try {
    await db.query(
      `insert into dbops.health_results (at, database, check_id, status, value) values (now() - interval '8 days', $1, 'connection', 'ok', 1), (now() - interval '6 days', $1, 'connection', 'ok', 1)`,
      [db.name],
    )
    const r = await runCli(['run', 'health'], { cwd: p.dir, env: { DATABASE_URL: db.passwordUrl } })
    assert.is(r.code, 0, r.stderr)
    assert.is(await count(db, `at < now() - interval '7 days'`), 0)
    assert.is(await count(db, `at < now() - interval '5 days'`), 1)
  } finally {
    await p.remove()
  }
})

test('history.url records in another database; false and --dry-run record nothing', async () => {
  const before = await count(db)
  const elsewhere = await healthProject(`{ history: { url: process.env.HISTORY_URL } }`)
  const off = await healthProject(`{ history: false }`)
  try {
    const r = await runCli(['run', 'health'], {
      cwd: elsewhere.dir,
      env: { DATABASE_URL: db.passwordUrl, HISTORY_URL: store.passwordUrl },
    })
    assert.is(r.code, 0, r.stderr)
    assert.ok((await count(store)) > 25)
    assert.is(await count(db), before)
    assert.is(
      (await runCli(['run', 'health'], { cwd: off.dir, env: { DATABASE_URL: db.passwordUrl } }))
        .code,
      0,
    )
    assert.is(
      (
        await runCli(['run', 'health', '--dry-run'], {
          cwd: elsewhere.dir,
          env: { DATABASE_URL: db.passwordUrl, HISTORY_URL: store.passwordUrl },
        })
      ).code,
      0,
    )
    assert.is(await count(db), before)
    assert.is(
      (await store.query(`select count(distinct at)::int as n from dbops.health_results`)).rows[0]!
        .n,
      1,
    )
  } finally {
    await elsewhere.remove()
    await off.remove()
  }
})

test('a history store that cannot be written fails the step, says why and how to turn it off, and leaks no password', async () => {
  const p = await healthProject(`{ history: { url: process.env.HISTORY_URL } }`)
  const readonlyRole = `history_ro_${process.pid}`
  const admin = new pg.Client({ connectionString: store.url })
  await admin.connect()
  await admin.query(`create role ${readonlyRole} login password 'Ro-pass-123456'`)
  try {
    const url = `postgres://${readonlyRole}:Ro-pass-123456@127.0.0.1:${store.cluster.port}/${store.name}`
    const r = await runCli(['run', 'health', '--json'], {
      cwd: p.dir,
      env: { DATABASE_URL: db.passwordUrl, HISTORY_URL: url },
    })
    assert.is(r.code, 1, r.stdout)
    const step = JSON.parse(r.stdout).steps[0]
    assert.is(step.error.code, 'HEALTH_HISTORY_FAILED')
    assert.match(step.error.message, /could not be recorded in the history: permission denied/)
    assert.match(step.error.hint, /history: false/)
    assert.is(step.result.checks.length > 25, true, 'the report is still the result')
    assert.not.match(r.stdout + r.stderr, /Ro-pass-123456/)
  } finally {
    await admin.query(`drop owned by ${readonlyRole}; drop role ${readonlyRole}`).catch(() => {})
    await admin.end()
    await p.remove()
  }
})

test.run()
