import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, migrateProject } from './helpers.ts'

const FAILING = `-- dbops:no-transaction\ncreate table a1 (id int);\ninsert into missing values (1);\ncreate table a3 (id int);\n`
const exists = async (db: { query: (sql: string) => Promise<{ rows: any[] }> }, table: string) =>
  (await db.query(`select to_regclass('${table}') is not null as e`)).rows[0]!.e as boolean

test('a no-transaction file failed part-way: fixing the failed statement, as the message says, is accepted and the run resumes there', async () => {
  const db = await createTestDatabase('mig_notx_fix')
  const p = await migrateProject(db, '{}', { 'migrations/0001_notx.sql': FAILING })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(r.stderr, 'migrations/0001_notx.sql:3:13: relation "missing" does not exist')
    assert.match(r.stderr, '1 of 3 statements of this no-transaction file are applied')
    assert.match(r.stderr, 'Fix statement 2')
    await writeFile(
      path.join(p.dir, 'migrations/0001_notx.sql'),
      FAILING.replace('insert into missing values (1);', '-- fixed\ncreate table a2 (id int);'),
    )
    const status = await p.json(['migrate', 'status'])
    assert.is(status.code, 1, `partial, not drift: ${status.stdout}`)
    assert.equal(status.body.drifted, [])
    const again = await p.json(['migrate', 'apply'])
    assert.is(again.code, 0, again.stdout + again.stderr)
    assert.is(again.body.applied[0].resumedAt, 1)
    assert.ok((await exists(db, 'a2')) && (await exists(db, 'a3')))
    assert.is((await p.json(['migrate', 'status'])).code, 0, 'up to date afterwards')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('an edit to a statement that was already applied is refused, naming the applied statements', async () => {
  const db = await createTestDatabase('mig_notx_edit_applied')
  const p = await migrateProject(db, '{}', { 'migrations/0001_notx.sql': FAILING })
  try {
    assert.is((await p.cli(['migrate', 'apply'])).code, 1)
    await writeFile(
      path.join(p.dir, 'migrations/0001_notx.sql'),
      FAILING.replace('create table a1 (id int);', 'create table a1 (id bigint);').replace(
        'insert into missing values (1);',
        'create table a2 (id int);',
      ),
    )
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(
      r.stderr,
      'migrations/0001_notx.sql: statement 1 of this no-transaction file was applied and has changed since',
    )
    assert.ok(!(await exists(db, 'a2')), 'nothing more applied')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('Prisma ledger: a failed statement-by-statement file says how Prisma resolves it, and an edit to it does not turn into drift', async () => {
  const db = await createTestDatabase('mig_notx_prisma')
  const sql = `CREATE TABLE "A" ("id" INT);\nCREATE INDEX CONCURRENTLY "A_id_idx" ON "A"("id");\nINSERT INTO "Missing" VALUES (1);\n`
  const p = await migrateProject(db, `{ dir: './prisma/migrations', ledger: 'prisma' }`, {
    'prisma/migrations/20240101000000_a/migration.sql': sql,
  })
  try {
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(r.stderr, 'prisma migrate resolve --rolled-back 20240101000000_a')
    assert.not.match(r.stderr, 'the next run resumes')
    const row = (await db.query(`select finished_at, logs from _prisma_migrations`)).rows[0] as any
    assert.is(row.finished_at, null)
    assert.match(row.logs, 'relation "Missing" does not exist')
    await writeFile(
      path.join(p.dir, 'prisma/migrations/20240101000000_a/migration.sql'),
      sql.replace('"Missing"', '"A"'),
    )
    const again = await p.cli(['migrate', 'apply'])
    assert.is(again.code, 1)
    assert.match(again.stderr, 'was started and never finished')
    assert.not.match(again.stderr, 'dbops migrate repair')
  } finally {
    await p.remove()
    await db.drop()
  }
})

test('a failed unnamed CREATE INDEX CONCURRENTLY: the INVALID index it leaves is reported, and again after the rerun builds a second one', async () => {
  const db = await createTestDatabase('mig_notx_unnamed_cic')
  await db.query(
    `create table users (id int, email text); insert into users values (1, 'a'), (2, 'a')`,
  )
  const p = await migrateProject(db, '{}', {
    'migrations/0001_uniq.sql': `-- dbops:no-transaction\ncreate unique index concurrently on users (email);\n`,
  })
  try {
    const lint = await p.cli(['migrate', 'lint', '--offline'])
    assert.match(
      lint.stdout,
      'migrations/0001_uniq.sql:2:1  warning  require-named-concurrent-index',
    )
    const r = await p.cli(['migrate', 'apply'])
    assert.is(r.code, 1)
    assert.match(r.stderr, 'could not create unique index "users_email_idx"')
    assert.match(r.stderr, 'left the INVALID index public.users_email_idx')
    assert.match(r.stderr, 'DROP INDEX CONCURRENTLY public.users_email_idx')
    await db.query(`delete from users where id = 2`)
    const again = await p.json(['migrate', 'apply'])
    assert.is(again.code, 0, again.stdout + again.stderr)
    assert.equal(again.body.applied[0].invalidIndexes, ['public.users_email_idx'])
    assert.match(again.stderr, 'public.users_email_idx on public.users is INVALID')
    assert.is(
      (
        await db.query(
          `select indisvalid from pg_index where indexrelid = 'users_email_idx1'::regclass`,
        )
      ).rows[0]!.indisvalid,
      true,
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

test.run()
