import { readFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { lockKey } from 'dbops/plugin'
import { readSections, sha256 } from '../src/files/migration-file.ts'
import { loadParser } from '../src/sql/parser.ts'
import { tokenChecksum } from '../src/sql/token-checksum.ts'
import { spawnCli } from '@dbops/test-utils'
import { createTestDatabase, migrateProject, waitFor } from './helpers.ts'

/** Six files; each logs its own run into apply_log, so a double apply would show. */
function loggedFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'migrations/0001_log.sql': `create table apply_log (file text not null, at timestamptz default clock_timestamp());\ninsert into apply_log (file) values ('0001');\n`,
  }
  for (let i = 2; i <= 6; i++) {
    const v = String(i).padStart(4, '0')
    files[`migrations/${v}_step.sql`] =
      `create table step_${i} (id int);\nselect pg_sleep(0.15);\ninsert into apply_log (file) values ('${v}');\n`
  }
  files['migrations/0007_idx.sql'] =
    `-- dbops:no-transaction\ncreate index concurrently step_2_id on step_2 (id);\ninsert into apply_log (file) values ('0007');\n`
  return files
}

test('eight `dbops run migrate` processes at once apply each file exactly once', async () => {
  const db = await createTestDatabase('mig_conc8')
  const p = await migrateProject(db, `{ lockWait: '60s' }`, loggedFiles())
  try {
    const runs = await Promise.all(
      Array.from({ length: 8 }, () => p.cli(['run', 'migrate', '--json'])),
    )
    for (const r of runs) assert.is(r.code, 0, r.stdout + r.stderr)
    const log = (
      await db.query<{ file: string; n: number }>(
        `select file, count(*)::int as n from apply_log group by file order by file`,
      )
    ).rows
    assert.equal(
      log,
      ['0001', '0002', '0003', '0004', '0005', '0006', '0007'].map((file) => ({ file, n: 1 })),
    )
    assert.is((await db.query(`select count(*)::int as n from dbops_migrations`)).rows[0]!.n, 7)
    const appliedCounts = runs.map(
      (r) => JSON.parse(r.stdout).steps[0].result.applied.length as number,
    )
    assert.is(
      appliedCounts.reduce((a, b) => a + b, 0),
      7,
      `applied per process: ${appliedCounts}`,
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('with a short lock wait, the losers fail with a clear "another migration holds the lock" and nothing runs twice', async () => {
  const db = await createTestDatabase('mig_conc2')
  const files = loggedFiles()
  files['migrations/0002_step.sql'] =
    `create table step_2 (id int);\nselect pg_sleep(2);\ninsert into apply_log (file) values ('0002');\n`
  const p = await migrateProject(db, `{ lockWait: '300ms' }`, files)
  try {
    const runs = await Promise.all([
      p.cli(['migrate', 'apply']),
      p.cli(['migrate', 'apply']),
      p.cli(['migrate', 'apply']),
    ])
    const ok = runs.filter((r) => r.code === 0)
    const failed = runs.filter((r) => r.code !== 0)
    assert.ok(ok.length >= 1, runs.map((r) => r.stderr).join('\n'))
    for (const f of failed) {
      assert.is(f.code, 1)
      assert.match(
        f.stderr,
        /another migration holds the lock on public\.dbops_migrations: pid \d+ \(application_name 'dbops migrate'/,
      )
    }
    const log = (
      await db.query<{ n: number }>(
        `select count(*)::int as n, count(distinct file)::int as d from apply_log`,
      )
    ).rows[0] as any
    assert.equal([log.n, log.d], [7, 7])
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a lock held by another session: the error names its pid, application_name and since when', async () => {
  const db = await createTestDatabase('mig_lockheld')
  const p = await migrateProject(db, `{ lockWait: '1s' }`, loggedFiles())
  const other = new pg.Client({ connectionString: db.url, application_name: 'deploy-bot' })
  await other.connect()
  try {
    await other.query(`select pg_advisory_lock($1::bigint)`, [
      lockKey('migrate:public.dbops_migrations').toString(),
    ])
    const pid = (await other.query(`select pg_backend_pid() as pid`)).rows[0].pid
    const started = Date.now()
    const r = await p.json(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.is(r.body.error.code, 'MIGRATION_LOCK_HELD')
    assert.match(r.body.error.message, `pid ${pid} (application_name 'deploy-bot'`)
    assert.match(r.body.error.message, /since \d{4}-\d\d-\d\dT/)
    assert.match(r.body.error.message, /gave up after waiting 1\.\ds/)
    assert.ok(Date.now() - started < 15_000)
    assert.is((await db.query(`select to_regclass('apply_log') as t`)).rows[0]!.t, null)
  } finally {
    await other.end()
    await p.remove()
    await db.drop()
  }
})

test('lock_timeout: a file blocked by another transaction is rolled back and retried with backoff until it gets through', async () => {
  const db = await createTestDatabase('mig_locktimeout')
  await db.query(`create table busy (id int)`)
  const p = await migrateProject(
    db,
    `{ lockTimeout: '200ms', retryBackoff: '150ms', lockRetries: 8 }`,
    {
      'migrations/0001_alter.sql': `create table other (id int);\nalter table busy add column note text;\n`,
    },
  )
  const blocker = new pg.Client({ connectionString: db.url })
  await blocker.connect()
  try {
    await blocker.query(`begin; lock table busy in access share mode`)
    const running = p.json(['migrate', 'apply'])
    await waitFor(
      'a retry',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%alter table busy%' and pid <> pg_backend_pid()`,
            )
          ).rows[0]!.n,
        ) > 0,
    )
    await new Promise((r) => setTimeout(r, 600))
    await blocker.query('commit')
    const r = await running
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.ok(r.body.applied[0].retries >= 1, `retries: ${r.body.applied[0].retries}`)
    assert.match(r.stderr, 'lock timeout')
    assert.is(
      (
        await db.query(
          `select count(*)::int as n from information_schema.columns where table_name = 'busy' and column_name = 'note'`,
        )
      ).rows[0]!.n,
      1,
    )
  } finally {
    await blocker.end()
    await p.remove()
    await db.drop()
  }
})

test('lock_timeout: when the retries run out the file is rolled back and the error says why', async () => {
  const db = await createTestDatabase('mig_locktimeout2')
  await db.query(`create table busy (id int)`)
  const p = await migrateProject(
    db,
    `{ lockTimeout: '100ms', retryBackoff: '50ms', lockRetries: 1 }`,
    {
      'migrations/0001_alter.sql': `create table other (id int);\nalter table busy add column note text;\n`,
    },
  )
  const blocker = new pg.Client({ connectionString: db.url })
  await blocker.connect()
  try {
    await blocker.query(`begin; lock table busy in access share mode`)
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0001_alter.sql:2:1: canceling statement due to lock timeout (SQLSTATE 55P03) after 2 attempts',
    )
    assert.match(r.stderr, 'pg_stat_activity')
    const blockerPid = (await blocker.query('select pg_backend_pid() as pid')).rows[0].pid
    assert.match(
      r.stderr,
      new RegExp(
        `Open transactions that may hold it: pid ${blockerPid} \\('', idle in transaction since `,
      ),
    )
    assert.is((await db.query(`select to_regclass('other') as t`)).rows[0]!.t, null)
  } finally {
    await blocker.end()
    await p.remove()
    await db.drop()
  }
})

test('a runner killed mid-file: nothing of a transactional file is half-applied', async () => {
  const db = await createTestDatabase('mig_kill_tx')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_a.sql': `create table a (id int);\n`,
    'migrations/0002_b.sql': `create table b (id int);\nselect pg_sleep(30);\ncreate table c (id int);\n`,
  })
  try {
    const run = spawnCli(['migrate', 'apply'], { cwd: p.dir, env: { DATABASE_URL: db.url } })
    await waitFor(
      'the sleep',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()`,
            )
          ).rows[0]!.n,
        ) > 0,
    )
    run.child.kill('SIGKILL')
    await run.done
    await waitFor(
      'the backend to notice',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()`,
            )
          ).rows[0]!.n,
        ) === 0,
      15_000,
    )
    assert.equal(
      (await db.query(`select version from dbops_migrations`)).rows.map((r: any) => r.version),
      ['0001'],
    )
    assert.is((await db.query(`select to_regclass('b') as t`)).rows[0]!.t, null)
    const status = await p.json(['migrate', 'status'])
    assert.equal(
      status.body.pending.map((x: any) => x.version),
      ['0002'],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('SIGINT mid-file: the statement is cancelled, the file rolled back, exit 130, and the lock is free for the next run', async () => {
  const db = await createTestDatabase('mig_sigint')
  await db.query(`create table slow_marker ()`)
  const p = await migrateProject(db, '{}', {
    'migrations/0001_a.sql': `create table a (id int);\n`,
    'migrations/0002_b.sql': `create table b (id int);\nselect pg_sleep(case when to_regclass('slow_marker') is null then 0 else 30 end);\n`,
  })
  try {
    const run = spawnCli(['migrate', 'apply'], { cwd: p.dir, env: { DATABASE_URL: db.url } })
    await waitFor(
      'the sleep',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where wait_event = 'PgSleep' and datname = current_database()`,
            )
          ).rows[0]!.n,
        ) > 0,
    )
    const started = Date.now()
    run.child.kill('SIGINT')
    const done = await run.done
    assert.is(done.code, 130, done.stderr)
    assert.ok(Date.now() - started < 10_000, 'cancelled, not waited out')
    assert.is((await db.query(`select to_regclass('b') as t`)).rows[0]!.t, null)
    await db.query(`drop table slow_marker`)
    const next = await p.json(['migrate', 'apply'])
    assert.is(next.code, 0, next.stdout + next.stderr)
    assert.equal(
      next.body.applied.map((a: any) => a.version),
      ['0002'],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a runner killed mid no-transaction file: its progress is reported and the next run resumes there', async () => {
  const db = await createTestDatabase('mig_kill_notx')
  await db.query(`create table slow_marker ()`)
  const p = await migrateProject(db, '{}', {
    'migrations/0001_notx.sql': `-- dbops:no-transaction\ncreate table a1 (id int);\nselect pg_sleep(case when to_regclass('slow_marker') is null then 0 else 30 end);\ncreate table a2 (id int);\n`,
  })
  try {
    const run = spawnCli(['migrate', 'apply'], { cwd: p.dir, env: { DATABASE_URL: db.url } })
    await waitFor(
      'the sleep',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(case%' and state = 'active' and pid <> pg_backend_pid()`,
            )
          ).rows[0]!.n,
        ) > 0,
    )
    run.child.kill('SIGKILL')
    await run.done
    await waitFor(
      'the backend to go',
      async () =>
        Number(
          (
            await db.query(
              `select count(*)::int as n from pg_stat_activity where query like 'select pg_sleep(case%' and state = 'active' and pid <> pg_backend_pid()`,
            )
          ).rows[0]!.n,
        ) === 0,
      15_000,
    )
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 1)
    assert.equal(status.body.partial, [
      { file: 'migrations/0001_notx.sql', statementsApplied: 1, statementsTotal: 3, error: null },
    ])
    const text = await p.cli(['migrate', 'status'])
    assert.match(text.stdout, 'PARTIAL   migrations/0001_notx.sql  1/3 statements applied')
    await db.query(`drop table slow_marker`)
    const resumed = await p.json(['migrate', 'apply'])
    assert.is(resumed.code, 0, resumed.stdout + resumed.stderr)
    assert.is(resumed.body.applied[0].resumedAt, 1)
    assert.is((await db.query(`select to_regclass('a2')::text as t`)).rows[0]!.t, 'a2')
    assert.is(
      (
        await db.query(
          `select statements_applied, finished_at is not null as done from dbops_migrations`,
        )
      ).rows[0]!.done,
      true,
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a failed CREATE INDEX CONCURRENTLY leaves an invalid index: dbops drops it before the retry', async () => {
  const db = await createTestDatabase('mig_invalid_idx')
  await db.query(
    `create table users (id int, email text); insert into users values (1, 'a'), (2, 'a')`,
  )
  const p = await migrateProject(db, '{}', {
    'migrations/0001_uniq.sql': `-- dbops:no-transaction\ncreate unique index concurrently users_email on users (email);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0001_uniq.sql:2:1: could not create unique index "users_email" (SQLSTATE 23505)',
    )
    assert.match(
      r.stderr,
      '0 of 1 statements of this no-transaction file are applied; the next run resumes at statement 1',
    )
    assert.is(
      (await db.query(`select indisvalid from pg_index where indexrelid = 'users_email'::regclass`))
        .rows[0]!.indisvalid,
      false,
    )
    const status = await p.json(['migrate', 'status'])
    assert.match(status.body.partial[0].error, 'could not create unique index')
    await db.query(`delete from users where id = 2`)
    const again = await p.json(['migrate', 'apply'])
    assert.is(again.code, 0, again.stdout)
    assert.equal(again.body.applied[0].droppedInvalidIndexes, ['users_email'])
    assert.is(
      (await db.query(`select indisvalid from pg_index where indexrelid = 'users_email'::regclass`))
        .rows[0]!.indisvalid,
      true,
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('an interrupted CREATE INDEX CONCURRENTLY that the server finished anyway counts as done on resume', async () => {
  const db = await createTestDatabase('mig_cic_done')
  await db.query(`create table users (id int, email text)`)
  const p = await migrateProject(db, '{}', {
    'migrations/0001_idx.sql': `-- dbops:no-transaction\ncreate index concurrently users_email on users (email);\ncreate index concurrently users_id on users (id);\n`,
  })
  try {
    // What a runner killed during statement 1 leaves when the backend completed the build.
    assert.is((await p.cli(['migrate', 'status'])).code, 1)
    await db.query(`create index users_email on users (email)`)
    await db.query(`create table dbops_migrations (version text primary key, name text not null, kind text not null, checksum text not null, content_sha256 text,
      applied_at timestamptz not null default now(), finished_at timestamptz, duration_ms integer, applied_by text not null default current_user,
      statements_total integer, statements_applied integer, error text, dbops_version text)`)
    await loadParser()
    const text = await readFile(path.join(p.dir, 'migrations/0001_idx.sql'), 'utf8')
    await db.query(
      `insert into dbops_migrations (version, name, kind, checksum, content_sha256, statements_total, statements_applied) values ('0001', '0001_idx', 'versioned', $1, $2, 2, 0)`,
      [tokenChecksum(readSections(text).up.text, 'no-transaction'), sha256(text)],
    )
    const status = await p.json(['migrate', 'status'])
    assert.equal(
      status.body.partial.map((x: any) => [x.file, x.statementsApplied]),
      [['migrations/0001_idx.sql', 0]],
    )
    const r = await p.json(['migrate', 'apply'])
    assert.is(r.code, 0, r.stdout + r.stderr)
    assert.is(r.body.applied[0].resumedAt, 0)
    assert.match(r.stderr, 'index users_email of the interrupted statement 1 was completed')
    assert.is(
      (await db.query(`select count(*)::int as n from pg_indexes where tablename = 'users'`))
        .rows[0]!.n,
      2,
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
