import { rm, writeFile, readFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, migrateProject } from './helpers.ts'

const FIVE = {
  'migrations/0001_users.sql': `-- dbops:up\ncreate table users (id bigint primary key, email text not null);\n-- dbops:down\ndrop table users;\n`,
  'migrations/0002_posts.sql': `create table posts (id bigint primary key, user_id bigint references users);\n`,
  'migrations/0003_fn.sql': `-- a function with semicolons in its body\ncreate function touch() returns trigger language plpgsql as $$\nbegin\n  new.id := new.id; return new;\nend $$;\n`,
  'migrations/0004_seed.sql': `insert into users values (1, 'a;b@example.com');\n`,
  'migrations/0005_idx.sql': `-- dbops:no-transaction\ncreate index concurrently posts_user on posts (user_id);\n`,
}

test('applies five files, records them, and a second run has nothing to do', async () => {
  const db = await createTestDatabase('mig_apply')
  const p = await migrateProject(db, '{}', FIVE)
  try {
    const first = await p.json(['migrate', 'apply'])
    assert.is(first.code, 0, first.stderr)
    assert.equal(
      first.body.applied.map((a: any) => a.version),
      ['0001', '0002', '0003', '0004', '0005'],
    )
    assert.equal(
      first.body.applied.map((a: any) => a.transactional),
      [true, true, true, true, false],
    )
    const rows = (
      await db.query(
        `select version, name, kind, checksum, applied_by, duration_ms, finished_at is not null as done from dbops_migrations order by version`,
      )
    ).rows
    assert.is(rows.length, 5)
    assert.ok(
      rows.every(
        (r: any) =>
          r.done &&
          r.kind === 'versioned' &&
          /^[0-9a-f]{64}$/.test(r.checksum) &&
          r.applied_by === 'postgres' &&
          r.duration_ms >= 0,
      ),
    )
    assert.is((await db.query(`select count(*)::int as n from users`)).rows[0]!.n, 1)
    assert.is(
      (await db.query(`select indisvalid from pg_index where indexrelid = 'posts_user'::regclass`))
        .rows[0]!.indisvalid,
      true,
    )
    const again = await p.json(['migrate', 'apply'])
    assert.is(again.code, 0)
    assert.is(again.body.applied.length, 0)
    assert.is(again.body.upToDate, 5)
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 0)
    assert.is(status.body.status, 'up-to-date')
    assert.is(status.body.applied.length, 5)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('--dry-run prints the plan and changes nothing; the task shows it under dbops run --dry-run', async () => {
  const db = await createTestDatabase('mig_dry')
  const p = await migrateProject(db, '{}', FIVE)
  try {
    const r = await p.cli(['migrate', 'apply', '--dry-run'])
    assert.is(r.code, 0, r.stderr)
    assert.match(r.stdout, 'apply migrations/0001_users.sql: 1 statement in one transaction')
    assert.match(
      r.stdout,
      'apply migrations/0005_idx.sql: 1 statement statement by statement, no transaction',
    )
    const run = await p.cli(['run', 'migrate', '--dry-run'])
    assert.is(run.code, 0, run.stderr)
    assert.match(run.stdout + run.stderr, '0003_fn.sql')
    assert.is(
      (await db.query(`select to_regclass('dbops_migrations') as t`)).rows[0]!.t,
      null,
      'no ledger was created',
    )
    assert.is((await db.query(`select to_regclass('users') as t`)).rows[0]!.t, null)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a syntax error in file 3 of 5 names file:line:column and applies nothing', async () => {
  const db = await createTestDatabase('mig_syntax')
  const p = await migrateProject(db, '{}', {
    ...FIVE,
    'migrations/0003_fn.sql': `select 1;\n\ncreate tabel oops (id int);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(r.stderr, 'migrations/0003_fn.sql:3:8: syntax error at or near "tabel"')
    assert.is((await db.query(`select count(*)::int as n from dbops_migrations`)).rows[0]!.n, 0)
    assert.is((await db.query(`select to_regclass('users') as t`)).rows[0]!.t, null)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a runtime error in file 3 of 5: earlier files stay, file 3 is rolled back with its location, the next run resumes', async () => {
  const db = await createTestDatabase('mig_runtime')
  const p = await migrateProject(db, '{}', {
    ...FIVE,
    'migrations/0003_fn.sql': `create table audit (id int);\ninsert into audit values (1);\n\n  insert into missing_table values (1);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0003_fn.sql:4:15: relation "missing_table" does not exist (SQLSTATE 42P01)',
    )
    assert.match(
      r.stderr,
      'the file was rolled back; the 2 file(s) before it in this run stay applied',
    )
    assert.equal(
      (await db.query(`select version from dbops_migrations order by version`)).rows.map(
        (x: any) => x.version,
      ),
      ['0001', '0002'],
    )
    assert.is(
      (await db.query(`select to_regclass('audit') as t`)).rows[0]!.t,
      null,
      'nothing of file 3 remains',
    )
    await writeFile(
      path.join(p.dir, 'migrations/0003_fn.sql'),
      `create table audit (id int);\ninsert into audit values (1);\n`,
    )
    const again = await p.json(['migrate', 'apply'])
    assert.is(again.code, 0, again.stdout)
    assert.equal(
      again.body.applied.map((a: any) => a.version),
      ['0003', '0004', '0005'],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a statement ending in a -- comment before its semicolon runs as written', async () => {
  const db = await createTestDatabase('mig_trailing_comment')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_rows.sql': `create table t (id int);\ninsert into t values (1) -- the first row\n;\ninsert into t values (2) -- the second\n;\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 0, r.stderr)
    assert.equal(
      (await db.query(`select id from t order by id`)).rows.map((x: any) => x.id),
      [1, 2],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('an execution error without a position points at the failing statement', async () => {
  const db = await createTestDatabase('mig_exec')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_a.sql': `create table a (id int primary key);\ninsert into a values (1);\n-- then a duplicate\ninsert into a values (1);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0001_a.sql:4:1: duplicate key value violates unique constraint "a_pkey" (SQLSTATE 23505)',
    )
    assert.match(r.stderr, 'detail: Key (id)=(1) already exists.')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('an edited applied file is drift; comments and whitespace are not; repair records a deliberate edit', async () => {
  const db = await createTestDatabase('mig_drift')
  const p = await migrateProject(db, '{}', FIVE)
  try {
    assert.is((await p.cli(['migrate', 'apply'])).code, 0)
    const file = path.join(p.dir, 'migrations/0002_posts.sql')
    await writeFile(
      file,
      `-- reformatted, same statement\ncreate table posts (\n  id bigint primary key,\n  user_id bigint references users\n);\n`,
    )
    const cosmetic = await p.json(['migrate', 'status'])
    assert.is(cosmetic.code, 0, 'a reformatted file is not drift')
    await writeFile(
      file,
      `create table posts (id bigint primary key, user_id bigint references users, title text);\n`,
    )
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 2)
    assert.equal(
      status.body.drifted.map((d: any) => d.file),
      ['migrations/0002_posts.sql'],
    )
    await writeFile(path.join(p.dir, 'migrations/0006_more.sql'), `create table more (id int);\n`)
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      '1 applied migration file(s) changed since they were applied: migrations/0002_posts.sql',
    )
    assert.is(
      (await db.query(`select to_regclass('more') as t`)).rows[0]!.t,
      null,
      'nothing applied while drifted',
    )
    assert.is((await p.cli(['migrate', 'repair'])).code, 0)
    assert.is((await p.cli(['migrate', 'apply'])).code, 0)
    assert.is((await db.query(`select to_regclass('more')::text as t`)).rows[0]!.t, 'more')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a file deleted after it was applied is reported missing and stops apply unless --allow-missing', async () => {
  const db = await createTestDatabase('mig_missing')
  const p = await migrateProject(db, '{}', FIVE)
  try {
    assert.is((await p.cli(['migrate', 'apply'])).code, 0)
    await rm(path.join(p.dir, 'migrations/0004_seed.sql'))
    await writeFile(path.join(p.dir, 'migrations/0006_more.sql'), `create table more (id int);\n`)
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 2)
    assert.equal(
      status.body.missing.map((m: any) => m.name),
      ['0004_seed'],
    )
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(r.stderr, '1 applied migration(s) are missing from disk: 0004_seed')
    assert.match(r.stderr, '--allow-missing')
    const forced = await p.json(['migrate', 'apply', '--allow-missing'])
    assert.is(forced.code, 0)
    assert.equal(
      forced.body.applied.map((a: any) => a.version),
      ['0006'],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('two files with one version: status shows them, apply refuses before touching anything', async () => {
  const db = await createTestDatabase('mig_dup')
  const p = await migrateProject(db, '{}', {
    ...FIVE,
    'migrations/3_other.sql': `create table other (id int);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 2)
    assert.match(
      r.stderr,
      'version 3 is held by 2 files: migrations/0003_fn.sql, migrations/3_other.sql',
    )
    assert.is((await db.query(`select to_regclass('dbops_migrations') as t`)).rows[0]!.t, null)
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 2)
    assert.is(status.body.duplicates[0].version, '3')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('many clashing versions: the error names the first few and counts the rest, and points a Prisma history at ledger: prisma', async () => {
  const db = await createTestDatabase('mig_dup_many')
  const files: Record<string, string> = {}
  for (let v = 1; v <= 20; v++)
    for (let k = 1; k <= 3; k++)
      files[
        `prisma/migrations/2024052821${String(v).padStart(4, '0')}_add_cursor_index_${k}/migration.sql`
      ] = `select ${v};\n`
  const p = await migrateProject(db, `{ dir: './prisma/migrations' }`, files)
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 2, r.stderr)
    const message = r.stderr.split('\n').find((l) => l.includes('version'))!
    assert.ok(message.length < 800, `fits on a screen (ten 80-column lines): ${message}`)
    assert.match(message, '20 versions are each held by more than one file (60 files)')
    assert.match(
      message,
      'version 20240528210001 is held by 3 files: prisma/migrations/20240528210001_add_cursor_index_1/migration.sql, prisma/migrations/20240528210001_add_cursor_index_2/migration.sql and 1 more',
    )
    assert.match(message, 'and 17 more versions')
    assert.not.match(r.stderr, '20240528210020_add_cursor_index')
    assert.match(r.stderr, "ledger: 'prisma'")
    assert.match(r.stderr, 'dbops migrate status')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('an out-of-order file is refused by default and applied with --allow-out-of-order', async () => {
  const db = await createTestDatabase('mig_order')
  const files: Record<string, string> = { ...FIVE }
  delete files['migrations/0003_fn.sql']
  const p = await migrateProject(db, '{}', files)
  try {
    assert.is((await p.cli(['migrate', 'apply'])).code, 0)
    await writeFile(path.join(p.dir, 'migrations/0003_late.sql'), `create table late (id int);\n`)
    const status = await p.json(['migrate', 'status'])
    assert.equal(status.body.pending, [
      { file: 'migrations/0003_late.sql', version: '0003', outOfOrder: true },
    ])
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      '1 pending migration(s) are older than the newest applied one: migrations/0003_late.sql',
    )
    const ok = await p.json(['migrate', 'apply', '--allow-out-of-order'])
    assert.is(ok.code, 0)
    assert.equal(
      ok.body.applied.map((a: any) => a.version),
      ['0003'],
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('CONCURRENTLY in a transactional file is refused with its location and a fix', async () => {
  const db = await createTestDatabase('mig_cic_tx')
  const p = await migrateProject(db, '{}', {
    'migrations/0001_t.sql': `create table t (id int);\n`,
    'migrations/0002_idx.sql': `-- forgot the directive\ncreate index concurrently t_id on t (id);\n`,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0002_idx.sql:2:1: CREATE INDEX CONCURRENTLY cannot run inside a transaction',
    )
    assert.match(r.stderr, '-- dbops:no-transaction')
    assert.is((await db.query(`select count(*)::int as n from dbops_migrations`)).rows[0]!.n, 0)
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('placeholders, repeatable files (re-run when changed, after versioned ones), new, down and baseline', async () => {
  const db = await createTestDatabase('mig_misc')
  const p = await migrateProject(db, `{ placeholders: { APP_ROLE: 'app_rw' } }`, {
    'migrations/0001_users.sql': FIVE['migrations/0001_users.sql'],
    'migrations/0002_grant.sql': `-- dbops:up\ncreate role \${APP_ROLE};\ngrant select on users to \${APP_ROLE};\n-- dbops:down\ndrop owned by \${APP_ROLE};\ndrop role \${APP_ROLE};\n`,
    'migrations/R__views.sql': `create or replace view user_emails as select email from users;\n`,
  })
  try {
    const first = await p.json(['migrate', 'apply'])
    assert.is(first.code, 0, first.stdout)
    assert.equal(
      first.body.applied.map((a: any) => a.file),
      ['migrations/0001_users.sql', 'migrations/0002_grant.sql', 'migrations/R__views.sql'],
    )
    assert.is(
      (await db.query(`select has_table_privilege('app_rw', 'users', 'select') as ok`)).rows[0]!.ok,
      true,
    )
    assert.is(
      (await p.json(['migrate', 'apply'])).body.applied.length,
      0,
      'an unchanged repeatable does not run again',
    )
    await writeFile(
      path.join(p.dir, 'migrations/R__views.sql'),
      `create or replace view user_emails as select email, id from users;\n`,
    )
    const second = await p.json(['migrate', 'apply'])
    assert.equal(
      second.body.applied.map((a: any) => a.file),
      ['migrations/R__views.sql'],
    )

    const down = await p.json(['migrate', 'down'])
    assert.is(down.code, 0, down.stdout)
    assert.equal(down.body.reverted, ['migrations/0002_grant.sql'])
    assert.is(
      (await db.query(`select count(*)::int as n from pg_roles where rolname = 'app_rw'`)).rows[0]!
        .n,
      0,
    )
    assert.is(
      (await db.query(`select count(*)::int as n from dbops_migrations where version = '0002'`))
        .rows[0]!.n,
      0,
    )

    const created = await p.json(['migrate', 'new', 'Add posts table'])
    assert.is(created.code, 0)
    assert.is(created.body.file, 'migrations/0003_add_posts_table.sql')
    const template = await readFile(path.join(p.dir, created.body.file), 'utf8')
    assert.match(template, '-- dbops:down')
    await writeFile(
      path.join(p.dir, created.body.file),
      template.replace('-- dbops:up\n', '-- dbops:up\ncreate table posts (id int);\n'),
    )
    const third = await p.json(['migrate', 'apply'])
    assert.equal(
      third.body.applied.map((a: any) => a.version),
      ['0002', '0003'],
    )
    const irreversible = await p.cli(['migrate', 'down'])
    assert.is(irreversible.code, 1)
    assert.match(
      irreversible.stderr,
      'migrations/0003_add_posts_table.sql has no down section; nothing was reverted',
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('baseline marks an existing database; an unknown placeholder is an error naming it', async () => {
  const db = await createTestDatabase('mig_baseline')
  await db.query(`create table users (id bigint primary key, email text not null)`)
  const p = await migrateProject(db, '{}', {
    'migrations/20250101000000_users.sql': FIVE['migrations/0001_users.sql'],
    'migrations/20250102000000_posts.sql': FIVE['migrations/0002_posts.sql'],
    'migrations/20250103000000_x.sql': `create schema \${SCHEMA_NAME};\n`,
  })
  try {
    const b = await p.json(['migrate', 'baseline', '20250101000000'])
    assert.is(b.code, 0, b.stdout)
    assert.equal(b.body.baselined, ['migrations/20250101000000_users.sql'])
    const again = await p.cli(['migrate', 'baseline', '20250101000000'])
    assert.is(again.code, 2)
    assert.match(again.stderr, 'already records 1 migration(s)')
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a dbops placeholder, not a template
      'migrations/20250103000000_x.sql:1:15: placeholder ${SCHEMA_NAME} has no value',
    )
    assert.is(
      (await db.query(`select to_regclass('posts') as t`)).rows[0]!.t,
      null,
      'checked before anything ran',
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('statementTimeout cancels a runaway statement with its location; --to applies up to a version', async () => {
  const db = await createTestDatabase('mig_stmt_timeout')
  const p = await migrateProject(db, `{ statementTimeout: '300ms' }`, {
    'migrations/0001_a.sql': `create table a (id int);\n`,
    'migrations/0002_b.sql': `create table b (id int);\n`,
    'migrations/0003_slow.sql': `create table c (id int);\n  select pg_sleep(30);\n`,
  })
  try {
    const first = await p.json(['migrate', 'apply', '--to', '0002'])
    assert.is(first.code, 0, first.stdout)
    assert.equal(
      first.body.applied.map((a: any) => a.version),
      ['0001', '0002'],
    )
    const started = Date.now()
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0003_slow.sql:2:3: canceling statement due to statement timeout (SQLSTATE 57014)',
    )
    assert.ok(Date.now() - started < 20_000, 'the sleep was cut short')
    assert.is((await db.query(`select to_regclass('c') as t`)).rows[0]!.t, null)
    const bad = await p.cli(['migrate', 'apply', '--to', 'latest'])
    assert.is(bad.code, 2)
    assert.match(bad.stderr, "--to: 'latest' is not a version")
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
