import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase, runCli, TEST_PASSWORD, type TestDatabase } from '@dbops/test-utils'
import {
  indexBytes,
  indexIdentity,
  invalidIndexes,
  leaveCcnew,
  makeBloatedTable,
  makeHealthyTable,
  makeSmallTable,
  reindexProject,
  TEST_OPTIONS,
} from './fixtures.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof reindexProject>>
const env = () => ({ DATABASE_URL: db.url })

test.before(async () => {
  db = await createTestDatabase('reindex_apply')
  await db.query('create extension amcheck')
  await db.query('create extension pgstattuple')
  await makeBloatedTable(db)
  await makeHealthyTable(db)
  await makeSmallTable(db)
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
  sizeBytes: number
  bloatPercent: number | null
  bloatBytes: number | null
}

test('plan picks the bloated index and says why each other index is skipped', async () => {
  const r = await runCli(['reindex', 'plan', '--json'], { cwd: project.dir, env: env() })
  assert.is(r.code, 0, r.stderr)
  const plan = JSON.parse(r.stdout) as {
    indexes: Decision[]
    analyzed: string[]
    totals: { rebuild: number }
  }
  const by = Object.fromEntries(plan.indexes.map((d) => [d.index, d]))
  assert.is(by.bloated_email_idx?.action, 'rebuild')
  assert.ok(by.bloated_email_idx!.bloatPercent! > 70, `bloat ${by.bloated_email_idx!.bloatPercent}`)
  assert.match(by.bloated_email_idx!.reason, /estimated bloat .* is over 30%/)
  assert.is(by.healthy_code_idx?.action, 'skip')
  assert.match(by.healthy_code_idx!.reason, /under minBloatPercent \(30%\)/)
  assert.is(by.tiny_pkey?.action, 'skip')
  assert.match(by.tiny_pkey!.reason, /under minTableSize/)
  // statistics were stale after the mass delete: the plan analyzed the table before trusting the estimate
  assert.ok(plan.analyzed.includes('public.bloated'), JSON.stringify(plan.analyzed))
  // the text form says the same for a person
  const text = await runCli(['reindex', 'plan'], { cwd: project.dir, env: env() })
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /rebuild\s+public\.bloated_email_idx/)
  assert.match(text.stdout, /skip\s+public\.healthy_code_idx.*under minBloatPercent/)
})

test('a password-protected role works and its password appears nowhere in the output', async () => {
  for (const args of [
    ['reindex', 'plan', '--json'],
    ['reindex', 'plan'],
    ['reindex', 'apply', '--dry-run'],
    ['run', 'optimize', '--dry-run', '--json'],
  ]) {
    const r = await runCli(args, { cwd: project.dir, env: { DATABASE_URL: db.passwordUrl } })
    assert.is(r.code, 0, r.stderr)
    assert.not.ok(
      (r.stdout + r.stderr).includes(TEST_PASSWORD),
      `password leaked by ${args.join(' ')}`,
    )
  }
  // a wrong password: a sentence, no password echoed back
  const bad = await runCli(['reindex', 'plan'], {
    cwd: project.dir,
    env: {
      DATABASE_URL: db.passwordUrl.replace(encodeURIComponent(TEST_PASSWORD), 'wrong-pw-123'),
    },
  })
  assert.is(bad.code, 1)
  assert.not.ok((bad.stdout + bad.stderr).includes('wrong-pw-123'))
})

test('exclusion-constraint, non-btree and excluded indexes are skipped with their reason', async () => {
  await db.query(
    'create table booked (id int not null, slot int not null, exclude using btree (slot with =)) with (autovacuum_enabled = off)',
  )
  await db.query('create index booked_id_hash on booked using hash (id)')
  await db.query('insert into booked select g, g from generate_series(1, 40000) g')
  await db.query('delete from booked where id % 10 <> 0')
  const excluding = await reindexProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', exclude: ['public.bloated'] }`,
  )
  try {
    const r = await runCli(['reindex', 'plan', '--json'], { cwd: excluding.dir, env: env() })
    assert.is(r.code, 0, r.stderr)
    const by = Object.fromEntries(
      (JSON.parse(r.stdout) as { indexes: Decision[] }).indexes.map((d) => [d.index, d]),
    )
    assert.is(by.booked_slot_excl?.action, 'skip')
    assert.match(
      by.booked_slot_excl!.reason,
      /exclusion constraint, which cannot be rebuilt concurrently/,
    )
    assert.match(by.booked_id_hash!.reason, /^hash index: only btree bloat is estimated/)
    assert.is(by.bloated_email_idx?.action, 'skip')
    assert.match(by.bloated_email_idx!.reason, /excluded by the pattern 'public\.bloated'/)
  } finally {
    await excluding.remove()
    await db.query('drop table booked')
  }
})

test('--dry-run shows the plan and changes nothing', async () => {
  const before = await indexIdentity(db, 'bloated_email_idx')
  const sizeBefore = await indexBytes(db, 'bloated_email_idx')
  const r = await runCli(['run', 'optimize', '--dry-run', '--json'], {
    cwd: project.dir,
    env: env(),
  })
  assert.is(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout) as {
    steps: { id: string; status: string; plan?: string[] }[]
  }
  const apply = report.steps.find((s) => s.id === 'reindex:apply')!
  assert.is(apply.status, 'planned')
  assert.ok(
    apply.plan!.some((l) => /would rebuild public\.bloated_email_idx/.test(l)),
    apply.plan!.join('\n'),
  )
  assert.equal(await indexIdentity(db, 'bloated_email_idx'), before)
  assert.is(await indexBytes(db, 'bloated_email_idx'), sizeBefore)
})

test('a leftover _ccnew is dropped, an unrelated invalid index is reported and kept', async () => {
  await leaveCcnew(db, 'bloated', 'bloated_email_idx')
  // a user's failed CREATE INDEX CONCURRENTLY: invalid, not ours to drop
  await db.query(
    `update pg_index set indisvalid = false where indexrelid = 'healthy_code_idx'::regclass`,
  )
  assert.equal(await invalidIndexes(db), ['bloated_email_idx_ccnew', 'healthy_code_idx'])
  const r = await runCli(['reindex', 'plan', '--json'], { cwd: project.dir, env: env() })
  const plan = JSON.parse(r.stdout) as {
    invalid: { index: string; action: string; reason: string }[]
  }
  const ccnew = plan.invalid.find((i) => i.index === 'bloated_email_idx_ccnew')!
  assert.is(ccnew.action, 'drop')
  assert.match(ccnew.reason, /leftover of a failed concurrent rebuild of bloated_email_idx/)
  const other = plan.invalid.find((i) => i.index === 'healthy_code_idx')!
  assert.is(other.action, 'keep')
  assert.match(other.reason, /not dropped/)
})

test('apply shrinks the bloated index online while a writer keeps writing; data intact, leftover gone', async () => {
  const sizeBefore = await indexBytes(db, 'bloated_email_idx')
  const rowsBefore = Number(
    (await db.query<{ n: string }>('select count(*) as n from bloated')).rows[0]!.n,
  )
  // a concurrent writer: inserts and updates in short transactions the whole time
  const writer = new pg.Client({ connectionString: db.url })
  await writer.connect()
  let writing = true
  let writes = 0
  const writerErrors: string[] = []
  let firstWrite!: () => void
  const wrote = new Promise<void>((resolve) => (firstWrite = resolve))
  const writes$ = (async () => {
    while (writing) {
      try {
        await writer.query(
          `insert into bloated (email) values (md5(random()::text) || '@w.example')`,
        )
        await writer.query(`update bloated set n = n + 1 where id = (select max(id) from bloated)`)
        writes++
      } catch (error) {
        writerErrors.push((error as Error).message)
      } finally {
        firstWrite()
      }
    }
  })()
  await wrote // the writer is writing before the rebuild starts, however loaded the machine
  const r = await runCli(['reindex', 'apply', '--json'], { cwd: project.dir, env: env() })
  writing = false
  await writes$
  await writer.end()
  assert.is(r.code, 0, r.stdout + r.stderr)
  assert.equal(writerErrors, [])
  assert.ok(writes > 0, 'the writer ran during the rebuild')
  const result = JSON.parse(r.stdout) as {
    indexes: {
      index: string
      status: string
      beforeBytes: number
      afterBytes: number
      reclaimedBytes: number
      verified: string
    }[]
    leftoversDropped: string[]
    invalidKept: { index: string }[]
    reclaimedBytes: number
  }
  const email = result.indexes.find((o) => o.index === 'bloated_email_idx')!
  assert.is(email.status, 'rebuilt')
  assert.is(email.verified, 'ok') // amcheck bt_index_check on the new index
  const sizeAfter = await indexBytes(db, 'bloated_email_idx')
  assert.ok(sizeAfter < sizeBefore / 4, `index shrank from ${sizeBefore} to ${sizeAfter}`)
  // the writer kept growing the index until the rebuild started: before is at least what we saw
  assert.ok(email.beforeBytes >= sizeBefore && email.afterBytes <= sizeAfter, JSON.stringify(email))
  assert.is(email.reclaimedBytes, email.beforeBytes - email.afterBytes)
  assert.ok(result.reclaimedBytes >= email.reclaimedBytes)
  assert.equal(result.leftoversDropped, ['public.bloated_email_idx_ccnew'])
  assert.equal(
    result.invalidKept.map((i) => i.index),
    ['healthy_code_idx'],
  )
  assert.equal(await invalidIndexes(db), ['healthy_code_idx'])
  // data intact: the index finds exactly what the table holds, and amcheck agrees
  const rowsAfter = Number(
    (await db.query<{ n: string }>('select count(*) as n from bloated')).rows[0]!.n,
  )
  assert.is(rowsAfter, rowsBefore + writes)
  const viaIndex = await db
    .query<{ n: string }>(
      `set enable_seqscan = off; select count(*) as n from bloated where email > ''`,
    )
    .then((x) => (x as unknown as pg.QueryResult[])[1]!.rows[0].n)
  assert.is(Number(viaIndex), rowsAfter)
  await db.query(`select bt_index_check('bloated_email_idx', true)`)
  await db.query(
    `update pg_index set indisvalid = true where indexrelid = 'healthy_code_idx'::regclass`,
  )
})

test('a second plan after apply finds nothing left to rebuild', async () => {
  const r = await runCli(['reindex', 'plan', '--json'], { cwd: project.dir, env: env() })
  const plan = JSON.parse(r.stdout) as { indexes: Decision[] }
  const email = plan.indexes.find((d) => d.index === 'bloated_email_idx')!
  assert.is(email.action, 'skip')
  assert.match(email.reason, /under minBloat/)
})

test('with confirmWithPgstattuple the measurement decides, and disagreeing estimates are not rebuilt', async () => {
  await makeBloatedTable(db, 'measured', 40_000)
  await db.query('vacuum measured') // dead entries removed; the emptied pages stay: real, measurable bloat
  const confirm = await reindexProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', confirmWithPgstattuple: true }`,
  )
  try {
    const r = await runCli(['reindex', 'plan', '--json'], { cwd: confirm.dir, env: env() })
    assert.is(r.code, 0, r.stderr)
    const plan = JSON.parse(r.stdout) as { indexes: (Decision & { source: string })[] }
    const measured = plan.indexes.find((d) => d.index === 'measured_email_idx')!
    assert.is(measured.action, 'rebuild', measured.reason)
    assert.is(measured.source, 'pgstatindex')
    assert.match(measured.reason, /^measured bloat/)
  } finally {
    await confirm.remove()
  }
})

test.run()
