// Issue 12 §2: bloat where it really is, in indexes that btree deduplication (PG13+) packs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  createTestDatabase,
  flushStats,
  makeDedupTables,
  runCli,
  type TestDatabase,
} from '@dbops/test-utils'
import { indexBytes, reindexProject, TEST_OPTIONS } from './fixtures.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof reindexProject>>
const env = () => ({ DATABASE_URL: db.url })

test.before(async () => {
  db = await createTestDatabase('reindex_dedup')
  await db.query('create extension amcheck')
  await makeDedupTables(db)
  project = await reindexProject(TEST_OPTIONS)
})
test.after(async () => {
  await project?.remove()
  await db?.drop()
})

type Decision = {
  index: string
  action: string
  reason: string
  source: string
  sizeBytes: number
  bloatPercent: number | null
  bloatBytes: number | null
  expectedBytes: number | null
  deduplicated: boolean
}

async function plan(): Promise<Record<string, Decision>> {
  const r = await runCli(['reindex', 'plan', '--json'], { cwd: project.dir, env: env() })
  assert.is(r.code, 0, r.stderr)
  return Object.fromEntries(
    (JSON.parse(r.stdout) as { indexes: Decision[] }).indexes.map((d) => [d.index, d]),
  )
}

test('the churned low-cardinality index is planned from a deduplication-aware estimate; the fresh one beside it is not', async () => {
  const by = await plan()
  const churned = by.posts_org_status_idx!
  assert.is(churned.action, 'rebuild', churned.reason)
  assert.is(churned.source, 'estimate')
  assert.is(churned.deduplicated, true)
  assert.ok(churned.bloatPercent! >= 60, `estimated ${churned.bloatPercent}%`)
  assert.match(
    churned.reason,
    /^estimated bloat .* is over 30%.*; the rebuilt index deduplicates ~\d+ rows per key/,
  )
  const fresh = by.posts_status_idx!
  assert.is(fresh.action, 'skip')
  assert.is(fresh.deduplicated, true)
  assert.match(fresh.reason, /under minBloatPercent \(30%\)/)
  assert.ok(fresh.bloatPercent! < 10, `a freshly built index estimated at ${fresh.bloatPercent}%`)
  // the primary key (unique: never deduplicated) keeps its one-tuple-per-row estimate
  const pkey = by.posts_pkey!
  assert.is(pkey.action, 'rebuild')
  assert.is(pkey.deduplicated, false)
  assert.ok(pkey.bloatPercent! > 70, `pkey ${pkey.bloatPercent}%`)
})

test('with pgstattuple installed, pgstatindex confirms a candidate that counts on deduplication', async () => {
  await db.query('create extension pgstattuple')
  try {
    const by = await plan()
    const churned = by.posts_org_status_idx!
    assert.is(churned.action, 'rebuild', churned.reason)
    assert.is(churned.source, 'pgstatindex')
    assert.match(churned.reason, /^measured bloat/)
    assert.ok(churned.bloatPercent! >= 30, `measured ${churned.bloatPercent}%`)
    // an estimate that does not depend on deduplication is not measured by default
    assert.is(by.posts_pkey!.source, 'estimate')
  } finally {
    await db.query('drop extension pgstattuple')
  }
})

test('apply rebuilds them: the deduplicated index shrinks by more than 30%, both land where the estimate said', async () => {
  const before = {
    churned: await indexBytes(db, 'posts_org_status_idx'),
    fresh: await indexBytes(db, 'posts_status_idx'),
    pkey: await indexBytes(db, 'posts_pkey'),
  }
  const by = await plan()
  const r = await runCli(['reindex', 'apply', '--json'], { cwd: project.dir, env: env() })
  assert.is(r.code, 0, r.stdout + r.stderr)
  const outcomes = Object.fromEntries(
    (
      JSON.parse(r.stdout) as { indexes: { index: string; status: string; verified: string }[] }
    ).indexes.map((o) => [o.index, o]),
  )
  assert.is(outcomes.posts_org_status_idx?.status, 'rebuilt')
  assert.is(outcomes.posts_org_status_idx?.verified, 'ok')
  assert.is(outcomes.posts_status_idx, undefined)
  const after = {
    churned: await indexBytes(db, 'posts_org_status_idx'),
    fresh: await indexBytes(db, 'posts_status_idx'),
    pkey: await indexBytes(db, 'posts_pkey'),
  }
  assert.ok(
    after.churned <= 0.7 * before.churned,
    `posts_org_status_idx ${before.churned} → ${after.churned}`,
  )
  assert.is(after.fresh, before.fresh)
  // the expected sizes are within 10% of what the rebuild made
  for (const [name, size] of [
    ['posts_org_status_idx', after.churned],
    ['posts_pkey', after.pkey],
  ] as const) {
    const expected = by[name]!.expectedBytes!
    assert.ok(
      Math.abs(expected - size) <= 0.1 * size,
      `${name}: expected ${expected}, rebuilt ${size}`,
    )
  }
  // and a plan right after finds nothing left to rebuild
  const again = await plan()
  for (const name of ['posts_org_status_idx', 'posts_status_idx', 'posts_pkey'])
    assert.is(again[name]!.action, 'skip', `${name}: ${again[name]!.reason}`)
})

test('indexes a rebuild cannot deduplicate keep the one-tuple-per-row estimate', async () => {
  await db.query(
    `create collation dbops_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)`,
  )
  await db.query(
    `create table nodedup (i int not null, n numeric not null, f float8 not null, c text collate dbops_ci not null)`,
  )
  await db.query(
    `insert into nodedup select g % 10, g % 10, g % 10, 'v' || (g % 10) from generate_series(1, 50000) g`,
  )
  const indexes: Record<string, [string, boolean]> = {
    nodedup_i: ['(i)', true],
    nodedup_n: ['(n)', false], // numeric: no equalimage support function (display scale)
    nodedup_f: ['(f)', false], // float8: -0 and +0 are equal but not the same image
    nodedup_c: ['(c)', false], // a nondeterministic collation
    nodedup_i_off: ['(i) with (deduplicate_items = off)', false],
    nodedup_i_incl: ['(i) include (f)', false], // INCLUDE columns: never deduplicated
  }
  for (const [name, [definition]] of Object.entries(indexes))
    await db.query(`create index ${name} on nodedup ${definition}`)
  await flushStats(db)
  await db.query('analyze nodedup')
  const by = await plan()
  for (const [name, [, deduplicated]] of Object.entries(indexes))
    assert.is(by[name]?.deduplicated, deduplicated, name)
})

test.run()
