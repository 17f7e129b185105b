// index_bloat and `reindex:plan` make one estimate, deduplication-aware (issue 12 §2).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'
import { makeDedupTables } from '@dbops/test-utils'
import type { HealthReport } from '../src/types.ts'
import { healthJson, result } from './setup.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof makeWorkdir>>
const reader = `bloat_reader_${process.pid}`
const readerPassword = 'Reader-pw-5521!'

test.before(async () => {
  db = await createTestDatabase('health_bloat_dedup')
  await makeDedupTables(db)
  await db.query(`create role ${reader} login password '${readerPassword}'`)
  await db.query(
    `grant connect on database "${db.name}" to ${reader}; grant select on posts to ${reader}`,
  )
  project = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig } from 'dbops'
import health from '@dbops/health'
import reindex from '@dbops/reindex'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  pool: { max: 5 },
  plugins: [
    health({ checks: { index_bloat: { warning: '256kB', critical: '1GB' } } }),
    reindex({ minBloatSize: '256kB', minTableSize: '64kB', analyzeBeforeEstimate: false }),
  ],
})
`,
  })
})
test.after(async () => {
  await project?.remove()
  await db
    .query(
      `revoke all on posts from ${reader}; revoke connect on database "${db.name}" from ${reader}`,
    )
    .catch(() => {})
  await db.query(`drop role if exists ${reader}`).catch(() => {})
  await db?.drop()
})

type Decision = { index: string; action: string; bloatBytes: number | null; sizeBytes: number }

async function indexBloat(url: string) {
  const { report } = await healthJson(project.dir, url, ['--only', 'index_bloat'])
  return result(report as HealthReport, 'index_bloat')
}

test('index_bloat finds the churned deduplicated index, not the fresh one, with the figures reindex:plan acts on', async () => {
  const check = await indexBloat(db.url)
  assert.is(check.status, 'warning', check.message)
  const by = Object.fromEntries(check.findings.map((f) => [f.object, f]))
  assert.ok(by.posts_org_status_idx, JSON.stringify(check.findings))
  assert.match(
    by.posts_org_status_idx!.detail!,
    /wasted \((6|7)\d%\) on posts; deduplicated when rebuilt, ~\d+ rows per key/,
  )
  assert.ok(by.posts_pkey, JSON.stringify(check.findings))
  assert.not.match(by.posts_pkey!.detail!, /deduplicated/)
  assert.is(by.posts_status_idx, undefined)

  const plan = await runCli(['reindex', 'plan', '--json'], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(plan.code, 0, plan.stderr)
  const decisions = Object.fromEntries(
    (JSON.parse(plan.stdout) as { indexes: Decision[] }).indexes.map((d) => [d.index, d]),
  )
  for (const name of ['posts_org_status_idx', 'posts_pkey']) {
    assert.is(decisions[name]!.action, 'rebuild', name)
    assert.is(by[name]!.value, decisions[name]!.bloatBytes, `${name}: health and the planner agree`)
  }
  assert.is(decisions.posts_status_idx!.action, 'skip')
})

test('a role that reads pg_stats rather than pg_statistic gets the same estimate', async () => {
  const asSuperuser = await indexBloat(db.url)
  const asReader = await indexBloat(
    `postgres://${reader}:${encodeURIComponent(readerPassword)}@127.0.0.1:${db.cluster.port}/${db.name}`,
  )
  assert.equal(asReader.findings, asSuperuser.findings)
})

test.run()
