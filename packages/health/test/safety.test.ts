// Faults and bad input: locks held by DDL, missing privileges, an unreachable server, typos, leaks.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { createTestDatabase, runCli, TEST_PASSWORD, type TestDatabase } from '@dbops/test-utils'
import { healthJson, healthProject, result, session, waitFor } from './setup.ts'

let db: TestDatabase
const sessions: pg.Client[] = []
const role = `health_nomon_${process.pid}`
const rolePassword = 'Nomon-pw-7781!'
const projects: { remove(): Promise<void> }[] = []

async function project(options = '{}', extra = '', pool?: string) {
  const p = await healthProject(options, extra, pool)
  projects.push(p)
  return p
}

test.before(async () => {
  db = await createTestDatabase('health_safety')
  await db.query(`
    create extension amcheck;
    create table locked_t (id int primary key, x int);
    create table free_t (id int primary key);
    insert into locked_t select g, g from generate_series(1, 1000) g;
    create sequence private_seq;
    create role ${role} login password '${rolePassword}';
    grant connect on database "${db.name}" to ${role};
  `)
})

test.after(async () => {
  for (const s of sessions) await s.end().catch(() => {})
  for (const p of projects) await p.remove()
  await db.query(`revoke connect on database "${db.name}" from ${role}`).catch(() => {})
  await db.query(`drop role if exists ${role}`).catch(() => {})
  await db.drop()
})

test('a table locked ACCESS EXCLUSIVE by DDL: the whole catalog still finishes fast; the check that must touch it says UNKNOWN', async () => {
  const ddl = await session(db)
  sessions.push(ddl)
  await ddl.query('begin')
  await ddl.query('alter table locked_t add column y int') // holds ACCESS EXCLUSIVE until rollback
  try {
    const p = await project(
      `{ lockTimeoutMs: 300, checks: { amcheck: { indexes: ['locked_t_pkey', 'free_t_pkey'] } } }`,
    )
    const started = Date.now()
    const { report } = await healthJson(p.dir, db.url)
    // A check that had waited would be UNKNOWN after lock_timeout: the list below says none did.
    assert.ok(Date.now() - started < 15_000)
    const amcheck = result(report, 'amcheck')
    assert.is(amcheck.status, 'unknown')
    assert.match(amcheck.message, /1 of 2 index\(es\) verified/)
    assert.match(amcheck.reason!, /locked_t_pkey \(locked by another session\)/)
    // nothing else waited for the lock
    assert.equal(
      report.checks.filter((c) => c.status === 'unknown').map((c) => c.check),
      ['amcheck'],
    )

    // Told not to skip locked indexes, amcheck waits for the lock only as long as lock_timeout.
    const waiting = await project(
      `{ lockTimeoutMs: 300, checks: { amcheck: { indexes: ['locked_t_pkey'], skipLocked: false } } }`,
    )
    const { report: r2 } = await healthJson(waiting.dir, db.url, ['--only', 'amcheck'])
    const a2 = result(r2, 'amcheck')
    assert.is(a2.status, 'unknown')
    assert.match(a2.reason!, /waited for a lock past lock_timeout/)
    assert.ok(
      a2.durationMs >= 250 && a2.durationMs < 15_000,
      `amcheck waited lock_timeout, then gave up: ${a2.durationMs} ms`,
    )
  } finally {
    await ddl.query('rollback')
  }
})

test('a check whose statement waits for a lock is UNKNOWN after lock_timeout, and the next check runs', async () => {
  // A catalog lock taken by DDL on pg_class blocks every catalog read of this database.
  const p = await project(`{ lockTimeoutMs: 300, concurrency: 1 }`)
  const ddl = await session(db)
  sessions.push(ddl)
  await ddl.query('begin')
  await ddl.query('lock table pg_catalog.pg_sequence in access exclusive mode')
  try {
    const { report } = await healthJson(p.dir, db.url, ['--only', 'sequences,invalid_indexes'])
    const seq = result(report, 'sequences')
    assert.is(seq.status, 'unknown')
    assert.match(seq.reason!, /waited 300 ms for a lock and gave up \(lock_timeout\)/)
    assert.ok(seq.durationMs < 15_000, 'it gave up rather than waiting for the rollback')
    assert.is(result(report, 'invalid_indexes').status, 'ok')
  } finally {
    await ddl.query('rollback')
  }
})

test('a check slower than its statement_timeout is UNKNOWN with the reason; the others are unaffected', async () => {
  await db.query(
    `do $$ begin for i in 1..1500 loop execute format('create sequence many_%s', i); end loop; end $$`,
  )
  try {
    const p = await project(`{ checks: { sequences: { timeoutMs: 5 } } }`)
    const { report, code } = await healthJson(p.dir, db.url, [
      '--only',
      'sequences,disabled_triggers',
    ])
    assert.is(code, 0)
    const seq = result(report, 'sequences')
    assert.is(seq.status, 'unknown')
    assert.match(seq.reason!, /timed out after 5 ms \(statement_timeout\)/)
    assert.is(result(report, 'disabled_triggers').status, 'ok')
  } finally {
    await db.query(
      `do $$ begin for i in 1..1500 loop execute format('drop sequence many_%s', i); end loop; end $$`,
    )
  }
})

test('the run has a budget: checks not started in time are UNKNOWN, the run still reports', async () => {
  const p = await project(`{ runTimeoutMs: 1 }`)
  const { report, code } = await healthJson(p.dir, db.url, [
    '--only',
    'invalid_indexes,sequences,disabled_triggers',
  ])
  assert.is(code, 0)
  for (const id of ['invalid_indexes', 'sequences', 'disabled_triggers']) {
    assert.is(result(report, id).status, 'unknown', id)
    assert.match(result(report, id).reason!, /the run's time budget \(1 ms\) was spent/)
  }
})

test('a statement_timeout of 1 ms on the role or the pool: the connection worked, and whatever still times out names that timeout', async () => {
  const tiny = `health_tiny_${process.pid}`
  await db.query(
    `create role ${tiny} login password '${rolePassword}' in role pg_monitor; alter role ${tiny} set statement_timeout = 1; grant connect on database "${db.name}" to ${tiny}`,
  )
  try {
    const roleUrl = `postgres://${tiny}:${encodeURIComponent(rolePassword)}@127.0.0.1:${db.cluster.port}/${db.name}`
    const cases = [
      { what: 'role', url: roleUrl, project: await project() },
      {
        what: 'pool',
        url: db.passwordUrl,
        project: await project('{}', '', '{ max: 5, statementTimeoutMs: 1 }'),
      },
    ]
    for (const c of cases) {
      const { report, code } = await healthJson(c.project.dir, c.url, ['--skip', 'amcheck'])
      const connection = result(report, 'connection')
      assert.is.not(connection.status, 'critical', `${c.what}: ${connection.message}`)
      assert.not.match(connection.message, /cannot reach/)
      // Health's own statement_timeout (SET LOCAL) covers every check; only the statement that
      // opens a transaction runs under the session's 1 ms, and when that is cancelled it says so.
      assert.match(
        `${connection.message} ${connection.reason ?? ''}`,
        /statement_timeout (is 1 ms|\(1 ms)|own statement_timeout/,
        `${c.what}: ${connection.message}`,
      )
      for (const r of report.checks) {
        if (r.status === 'unknown' && /timeout|cancel/i.test(r.reason!))
          assert.match(
            r.reason!,
            /this session's own statement_timeout .*set on the role, the database or pool\.statementTimeoutMs/,
            `${c.what}: ${r.check}: ${r.reason}`,
          )
      }
      assert.is(code, report.status === 'critical' ? 1 : 0)
    }
  } finally {
    await db.query(`drop owned by ${tiny}; drop role ${tiny}`).catch(() => {})
  }
})

test('a role without pg_monitor: what it cannot see is UNKNOWN with the reason, never OK', async () => {
  const other = await session(db)
  sessions.push(other)
  await other.query('begin')
  await other.query('select 1')
  const url = `postgres://${role}:${encodeURIComponent(rolePassword)}@127.0.0.1:${db.cluster.port}/${db.name}`
  const p = await project(`{ checks: { idle_in_transaction: { warning: '1h', critical: '2h' } } }`)
  await waitFor(
    async () =>
      (
        await db.query(
          `select 1 from pg_stat_activity where state = 'idle in transaction' and datname = current_database()`,
        )
      ).rowCount! > 0,
    'the idle session',
  )
  const { report, code } = await healthJson(p.dir, url, [
    '--only',
    'idle_in_transaction,sequences,amcheck,connection',
  ])
  assert.is(code, 0) // unknown is not critical
  const idle = result(report, 'idle_in_transaction')
  assert.is(idle.status, 'unknown')
  assert.match(idle.reason!, new RegExp(`invisible to ${role} \\(not a member of pg_monitor\\)`))
  assert.is(result(report, 'sequences').status, 'unknown')
  assert.match(result(report, 'sequences').reason!, /not readable by/)
  assert.is(result(report, 'amcheck').status, 'unknown')
  assert.match(result(report, 'amcheck').reason!, /permission denied/)
  assert.is(result(report, 'connection').status, 'ok')
  await other.query('rollback')
  // nagios: the UNKNOWN is not hidden behind the OKs
  const nagios = await runCli(
    ['health', '--format', 'nagios', '--only', 'idle_in_transaction,connection'],
    { cwd: p.dir, env: { DATABASE_URL: url } },
  )
  assert.is(nagios.code, 3, nagios.stdout + nagios.stderr)
  assert.match(nagios.stdout, /^DBOPS_HEALTH UNKNOWN: /)
})

test('an unreachable server is CRITICAL, not a crash; nagios exits 2', async () => {
  const p = await project()
  const url = `postgres://dbops_test:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:1/nowhere`
  const started = Date.now()
  const { report, code } = await healthJson(p.dir, url)
  assert.is(code, 1)
  assert.ok(Date.now() - started < 15_000)
  assert.is(report.status, 'critical')
  const c = result(report, 'connection')
  assert.is(c.status, 'critical')
  assert.match(
    c.message,
    /cannot reach the database: nothing accepts connections at 127\.0\.0\.1:1/,
  )
  assert.is(result(report, 'long_queries').status, 'unknown')
  const text = await runCli(['health'], { cwd: p.dir, env: { DATABASE_URL: url } })
  assert.is(text.code, 1)
  assert.match(text.stdout, /CRIT\s+connection/)
  const nagios = await runCli(['health', '--format', 'nagios'], {
    cwd: p.dir,
    env: { DATABASE_URL: url },
  })
  assert.is(nagios.code, 2)
  assert.match(
    nagios.stdout,
    /^DBOPS_HEALTH CRITICAL: CRITICAL connection: cannot reach the database/,
  )
  const prom = await runCli(['health', '--format', 'prometheus'], {
    cwd: p.dir,
    env: { DATABASE_URL: url },
  })
  assert.match(prom.stdout, /^dbops_health_up\{database="nowhere"\} 0$/m)
  for (const out of [JSON.stringify(report), text.stdout, text.stderr, nagios.stdout, prom.stdout])
    assert.not.ok(out.includes(TEST_PASSWORD))
})

test('an unknown check name in --only or --skip: exit 2 with a suggestion, nothing runs', async () => {
  const p = await project()
  const r = await runCli(['health', '--only', 'connection,idle_in_transactoin'], {
    cwd: p.dir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(r.code, 2)
  assert.match(
    r.stderr,
    /--only: unknown check 'idle_in_transactoin'; did you mean 'idle_in_transaction'\?/,
  )
  assert.is(r.stdout, '')
  const s = await runCli(['health', '--skip', 'bloat'], {
    cwd: p.dir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(s.code, 2)
  assert.match(s.stderr, /--skip: unknown check 'bloat'/)
  const f = await runCli(['health', '--format', 'xml'], {
    cwd: p.dir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(f.code, 2)
  assert.match(f.stderr, /--format: 'xml' is not a format/)
})

test('thresholds that do not parse: every problem reported at once, exit 2, before connecting', async () => {
  const p = await project(
    `{ checks: { long_queries: { warning: '5 minuts' }, connections: { critical: '120%' }, table_bloat: { warning: 'big' }, idle_in_transaction: { warning: '10m', critical: '5m' }, cache_hit_ratio: { warning: 90, critical: 95 } }, skip: ['nope'] }`,
  )
  const r = await runCli(['health'], {
    cwd: p.dir,
    env: { DATABASE_URL: 'postgres://x@127.0.0.1:1/none' },
  })
  assert.is(r.code, 2, r.stderr)
  assert.match(
    r.stderr,
    /checks\.long_queries\.warning: '5 minuts' is not a duration \(write 500ms, 90s, 5m, 2h or 1d\)/,
  )
  assert.match(r.stderr, /checks\.connections\.critical: '120%' is more than 100%/)
  assert.match(r.stderr, /checks\.table_bloat\.warning: 'big' is not a size/)
  assert.match(r.stderr, /skip.*unknown check 'nope'/)
  assert.match(
    r.stderr,
    /checks\.idle_in_transaction\.warning: warning \(10m\) must not be above critical \(5m\)/,
  )
  assert.match(
    r.stderr,
    /checks\.cache_hit_ratio\.warning: warning \(90%\) must not be below critical \(95%\): lower values are worse/,
  )
  assert.not.match(r.stderr, /nothing accepts connections/)
})

test("secrets never appear in any format, not even inside a session's query text", async () => {
  const leaky = await session(db)
  sessions.push(leaky)
  await leaky.query('begin')
  await leaky.query(`select '${TEST_PASSWORD}' as pw, '${db.passwordUrl}' as url`)
  const p = await project(`{ checks: { idle_in_transaction: { warning: '0s' } } }`)
  const outputs: string[] = []
  for (const format of ['text', 'json', 'nagios', 'prometheus']) {
    const r = await runCli(
      [
        'health',
        '--format',
        format,
        '--verbose',
        '--only',
        'connection,idle_in_transaction,long_transactions',
      ].filter((a) => format === 'text' || a !== '--verbose'),
      { cwd: p.dir, env: { DATABASE_URL: db.passwordUrl } },
    )
    outputs.push(r.stdout, r.stderr)
    if (format === 'json') {
      const report = JSON.parse(r.stdout)
      const idle = result(report, 'idle_in_transaction')
      assert.ok(
        idle.findings.some((f) => f.detail?.includes('[redacted]')),
        JSON.stringify(idle.findings),
      )
    }
  }
  const run = await runCli(['run', 'health', '--json'], {
    cwd: p.dir,
    env: { DATABASE_URL: db.passwordUrl },
  })
  outputs.push(run.stdout, run.stderr)
  for (const out of outputs) {
    assert.not.ok(out.includes(TEST_PASSWORD), out)
    assert.not.ok(out.includes(encodeURIComponent(TEST_PASSWORD)), out)
  }
  await leaky.query('rollback')
})

test.run()
