// The aipromot schema has two routes: Prisma's migrations folder on a new database, and the
// team's idempotent manual script on an existing one. Both must end in the same schema.
import { execFile } from 'node:child_process'
import path from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import { countRows, generateData, volumeFor } from '../scripts/generate-data.ts'
import {
  applyPrismaMigrations,
  describeSchema,
  EXAMPLE_DIR,
  indexNames,
  NAMED_INDEXES,
  PARTIAL_INDEXES,
  runManualScriptWithPsql,
} from './schema.ts'

/** `pnpm db:seed ...` as the team runs it. */
async function seed(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', path.join(EXAMPLE_DIR, 'scripts/generate-data.ts'), ...args],
      { cwd: EXAMPLE_DIR, env: { PATH: process.env.PATH ?? '', ...env } },
    )
    return { code: 0, stderr }
  } catch (error) {
    const e = error as { code: number; stderr: string }
    return { code: e.code, stderr: e.stderr }
  }
}

let prismaDb: TestDatabase
let manualDb: TestDatabase

test.before(async () => {
  prismaDb = await createTestDatabase('aipromot_prisma')
  manualDb = await createTestDatabase('aipromot_manual')
})
test.after(async () => {
  await prismaDb?.drop()
  await manualDb?.drop()
})

test('the Prisma migrations build the full schema with every named index', async () => {
  const applied = await applyPrismaMigrations(prismaDb)
  assert.equal(applied, [
    '20250310091500_init',
    '20250602143000_add_email_verification_and_optimize_indexes',
  ])
  const names = await indexNames(prismaDb)
  for (const name of [...NAMED_INDEXES, ...PARTIAL_INDEXES, 'users_emailVerificationToken_key'])
    assert.ok(names.includes(name), `missing index ${name}`)
  const { rows } = await prismaDb.query<{ indexdef: string }>(
    `select indexdef from pg_indexes where indexname = 'users_unverified_emailVerificationExpiry_idx'`,
  )
  assert.match(rows[0]!.indexdef, /WHERE \(verified = false\)/)
})

test('the manual script upgrades an existing database in place, keeping its rows', async () => {
  await applyPrismaMigrations(manualDb, { only: ['_init'] })
  await manualDb.query(
    `insert into organizations (id, name, slug, "updatedAt") values ('o1', 'Acme', 'acme', now())`,
  )
  await manualDb.query(
    `insert into users (id, email, "passwordHash", "organizationId", "updatedAt") values ('u1', 'a@acme.test', 'x', 'o1', now())`,
  )
  await runManualScriptWithPsql(manualDb.cluster.binDir, manualDb.url)
  const { rows } = await manualDb.query<{ email: string; emailVerificationToken: string | null }>(
    `select email, "emailVerificationToken" from users`,
  )
  assert.equal(rows, [{ email: 'a@acme.test', emailVerificationToken: null }])
})

test('both routes end in the same tables, columns, constraints and indexes', async () => {
  const viaPrisma = await describeSchema(prismaDb)
  const viaManual = await describeSchema(manualDb)
  assert.ok(
    viaPrisma.indexes.length >= 20,
    `expected the full index set, got ${viaPrisma.indexes.length}`,
  )
  assert.equal(viaManual.enums, viaPrisma.enums)
  assert.equal(viaManual.columns, viaPrisma.columns)
  assert.equal(viaManual.constraints, viaPrisma.constraints)
  assert.equal(viaManual.indexes, viaPrisma.indexes)
})

test('the manual script is safe to run twice, and on a database built by Prisma', async () => {
  const before = await describeSchema(manualDb)
  await runManualScriptWithPsql(manualDb.cluster.binDir, manualDb.url)
  assert.equal(await describeSchema(manualDb), before)
  const prismaBefore = await describeSchema(prismaDb)
  await runManualScriptWithPsql(prismaDb.cluster.binDir, prismaDb.url)
  assert.equal(await describeSchema(prismaDb), prismaBefore)
})

test('the manual script rebuilds an index an interrupted run left INVALID', async () => {
  // A failed CREATE UNIQUE INDEX CONCURRENTLY (duplicates) leaves an INVALID index behind;
  // IF NOT EXISTS alone would keep it and the token would never be unique.
  await manualDb.query(`drop index "users_emailVerificationToken_key"`)
  await manualDb.query(
    `insert into users (id, email, "passwordHash", "organizationId", "updatedAt", "emailVerificationToken") values ('u2', 'b@acme.test', 'x', 'o1', now(), 'dup'), ('u3', 'c@acme.test', 'x', 'o1', now(), 'dup')`,
  )
  await manualDb
    .query(
      `create unique index concurrently "users_emailVerificationToken_key" on users ("emailVerificationToken")`,
    )
    .then(
      () => assert.unreachable('the unique index should not build over duplicates'),
      (error: Error) => assert.match(error.message, /could not create unique index/),
    )
  const invalid = await manualDb.query(
    `select 1 from pg_index i join pg_class c on c.oid = i.indexrelid where c.relname = 'users_emailVerificationToken_key' and not i.indisvalid`,
  )
  assert.is(invalid.rows.length, 1)
  await manualDb.query(`update users set "emailVerificationToken" = null where id = 'u3'`)
  const output = await runManualScriptWithPsql(manualDb.cluster.binDir, manualDb.url)
  assert.match(output, /dropping invalid index users_emailVerificationToken_key/)
  assert.equal((await describeSchema(manualDb)).indexes, (await describeSchema(prismaDb)).indexes)
  await manualDb.query(`update users set "emailVerificationToken" = 'dup' where id = 'u3'`).then(
    () => assert.unreachable('the rebuilt index must enforce uniqueness'),
    (error: Error) => assert.match(error.message, /users_emailVerificationToken_key/),
  )
})

test('the generator fills the schema with the requested volume, and refuses to double it', async () => {
  const volume = volumeFor(0.1, { analytics: 12_345 })
  const counts = await generateData(prismaDb, volume)
  assert.equal(counts, {
    organizations: 10,
    users: 200,
    content_pieces: 1000,
    scheduled_posts: 500,
    analytics: 12_345,
  })
  await generateData(prismaDb, volume).then(
    () => assert.unreachable('a second run without reset must be refused'),
    (error: Error) => assert.match(error.message, /already has aipromot data: pass --reset/),
  )
  assert.equal(await countRows(prismaDb), counts)
  const again = await generateData(prismaDb, volumeFor(0.05), { reset: true })
  assert.is(again.analytics, 2500)
})

test('db:seed: bad options and a missing DATABASE_URL are a sentence and exit 2; good ones report each table', async () => {
  const bad = await seed(['--analytics', 'lots'], { DATABASE_URL: prismaDb.url })
  assert.is(bad.code, 2)
  assert.match(bad.stderr, /--analytics needs a number/)
  const unknown = await seed(['--rows', '5'], { DATABASE_URL: prismaDb.url })
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /unknown option --rows/)
  const noUrl = await seed([], {})
  assert.is(noUrl.code, 2)
  assert.match(noUrl.stderr, /DATABASE_URL is not set/)
  const refused = await seed([], { DATABASE_URL: prismaDb.url })
  assert.is(refused.code, 1)
  assert.match(refused.stderr, /already has aipromot data: pass --reset/)
  const ok = await seed(['--scale', '0.05', '--reset'], { DATABASE_URL: prismaDb.url })
  assert.is(ok.code, 0, ok.stderr)
  assert.match(ok.stderr, /analytics\s+2500 rows/)
  assert.match(ok.stderr, /generated 3355 rows in/)
})

test('generated rows are consistent: authors and posts belong to their organization', async () => {
  const { rows } = await prismaDb.query<{ bad: number }>(`
    select (select count(*) from content_pieces cp join users u on u.id = cp."authorId" where u."organizationId" <> cp."organizationId")
         + (select count(*) from scheduled_posts sp join content_pieces cp on cp.id = sp."contentPieceId" where cp."organizationId" <> sp."organizationId")
         + (select count(*) from analytics a join content_pieces cp on cp.id = a."contentPieceId" where cp."organizationId" <> a."organizationId") as bad`)
  assert.is(Number(rows[0]!.bad), 0)
  const tokens = await prismaDb.query<{ unverified_without_token: number }>(
    `select count(*)::int as unverified_without_token from users where not verified and "emailVerificationToken" is null`,
  )
  assert.is(tokens.rows[0]!.unverified_without_token, 0)
})

test('deleting an organization leaves no orphans; deleting an author keeps their content', async () => {
  const before = await countRows(prismaDb)
  const { rows: owned } = await prismaDb.query<{ n: number }>(
    `select (select count(*) from users where "organizationId" = 'org_000001') + (select count(*) from analytics where "organizationId" = 'org_000001') as n`,
  )
  assert.ok(Number(owned[0]!.n) > 0)
  await prismaDb.query(`delete from organizations where id = 'org_000001'`)
  const orphans = await prismaDb.query<{ n: string }>(`
    select (select count(*) from users where "organizationId" = 'org_000001')
         + (select count(*) from content_pieces where "organizationId" = 'org_000001')
         + (select count(*) from scheduled_posts where "organizationId" = 'org_000001')
         + (select count(*) from analytics where "organizationId" = 'org_000001') as n`)
  assert.is(Number(orphans.rows[0]!.n), 0)
  assert.ok((await countRows(prismaDb)).analytics < before.analytics)

  const { rows: authored } = await prismaDb.query<{ id: string; authorId: string }>(
    `select id, "authorId" from content_pieces where "authorId" is not null limit 1`,
  )
  await prismaDb.query(`delete from users where id = $1`, [authored[0]!.authorId])
  const piece = await prismaDb.query(`select "authorId" from content_pieces where id = $1`, [
    authored[0]!.id,
  ])
  assert.equal(piece.rows, [{ authorId: null }])
})

test.run()
