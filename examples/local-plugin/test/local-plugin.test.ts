import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, runCli, type TestDatabase } from '../../../test/harness/index.ts'

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let db: TestDatabase

test.before(async () => {
  db = await createTestDatabase('local_plugin')
  await db.query(readFileSync(path.join(exampleDir, 'schema.sql'), 'utf8'))
})
test.after(async () => db.drop())

const counts = async () => {
  const { rows } = await db.query<{ live: string; archived: string }>('select (select count(*) from events) as live, (select count(*) from events_archive) as archived')
  return { live: Number(rows[0]!.live), archived: Number(rows[0]!.archived) }
}

test('--dry-run shows the plan of the mutating task and changes nothing', async () => {
  const before = await counts()
  const result = await runCli(['run', 'archive', '--dry-run'], { cwd: exampleDir, env: { DATABASE_URL: db.url } })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /would move \d+ events older than 30 days to events_archive/)
  assert.equal(await counts(), before)
})

test('a pipeline of the local plugin runs with progress output and archives the old rows', async () => {
  const before = await counts()
  const due = Number((await db.query<{ n: string }>(`select count(*) as n from events where at < now() - interval '30 days'`)).rows[0]!.n)
  assert.ok(due > 0)
  const result = await runCli(['run', 'archive'], { cwd: exampleDir, env: { DATABASE_URL: db.url } })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /count events to archive \(archive:count\)/)
  assert.match(result.stdout, new RegExp(`${due} events archived`))
  assert.match(result.stderr, /archive: done in .* \(2 succeeded\)/)
  const after = await counts()
  assert.is(after.archived, before.archived + due)
  assert.is(after.live, before.live - due)
})

test('--json prints one JSON document with each step, its status, duration and result', async () => {
  const result = await runCli(['run', 'nightly', '--json'], { cwd: exampleDir, env: { DATABASE_URL: db.url } })
  assert.is(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout)
  assert.is(report.status, 'success')
  assert.equal(report.pipelines, ['nightly'])
  assert.equal(report.steps.map((s: { id: string }) => s.id), ['archive:count', 'archive:events', 'retention:apply'])
  assert.equal(report.steps[0].path, ['nightly', 'archive'])
  assert.is(report.steps[1].status, 'success')
  assert.equal(report.steps[1].result, { moved: 0 })
  assert.type(report.steps[0].durationMs, 'number')
})

test.run()
