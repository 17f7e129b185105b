import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { defineConfig } from 'dbops'
import { createTestDatabase, runPipeline, runTask, type TestDatabase } from 'dbops/testing'
import { runCli } from '@dbops/test-utils'
import archive from '../archive-plugin.ts'

const exampleDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
let db: TestDatabase

test.before(async () => {
  db = await createTestDatabase('local_plugin')
  await db.query(readFileSync(path.join(exampleDir, 'schema.sql'), 'utf8'))
})
test.after(async () => db.drop())

const counts = async () => {
  const { rows } = await db.query<{ live: string; archived: string }>(
    'select (select count(*) from events) as live, (select count(*) from events_archive) as archived',
  )
  return { live: Number(rows[0]!.live), archived: Number(rows[0]!.archived) }
}

test('--dry-run shows the plan of the mutating task and changes nothing', async () => {
  const before = await counts()
  const result = await runCli(['run', 'archive', '--dry-run'], {
    cwd: exampleDir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /would move \d+ events older than 30 days to events_archive/)
  assert.equal(await counts(), before)
})

test('a pipeline of the local plugin runs with progress output and archives the old rows', async () => {
  const before = await counts()
  const due = Number(
    (
      await db.query<{ n: string }>(
        `select count(*) as n from events where at < now() - interval '30 days'`,
      )
    ).rows[0]!.n,
  )
  assert.ok(due > 0)
  const result = await runCli(['run', 'archive'], {
    cwd: exampleDir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /count events to archive \(archive:count\)/)
  assert.match(result.stdout, new RegExp(`${due} events archived`))
  assert.match(result.stderr, /archive: done in .* \(2 succeeded\)/)
  const after = await counts()
  assert.is(after.archived, before.archived + due)
  assert.is(after.live, before.live - due)
})

test('--json prints one JSON document with each step, its status, duration and result', async () => {
  const result = await runCli(['run', 'nightly', '--json'], {
    cwd: exampleDir,
    env: { DATABASE_URL: db.url },
  })
  assert.is(result.code, 0, result.stderr)
  const report = JSON.parse(result.stdout)
  assert.is(report.status, 'success')
  assert.equal(report.pipelines, ['nightly'])
  assert.equal(
    report.steps.map((s: { id: string }) => s.id),
    ['archive:count', 'archive:events', 'retention:apply'],
  )
  assert.equal(report.steps[0].path, ['nightly', 'archive'])
  assert.is(report.steps[1].status, 'success')
  assert.equal(report.steps[1].result, { moved: 0 })
  assert.type(report.steps[0].durationMs, 'number')
})

// What a team's own test of its plugin looks like: dbops/testing gives the throwaway
// database and runs the plugin's tasks in this process, against a config made here.
const inline = () =>
  defineConfig({
    connection: { url: db.url },
    plugins: [archive({ olderThanDays: 60, batchSize: 100 })],
  })

test('dbops/testing: runTask returns what the task returned, and a dry run of a mutating task changes nothing', async () => {
  await db.query(
    `insert into events (at) select now() - interval '90 days' from generate_series(1, 25)`,
  )
  const due = Number(
    (
      await db.query<{ n: string }>(
        `select count(*) as n from events where at < now() - interval '60 days'`,
      )
    ).rows[0]!.n,
  )
  const count = await runTask('archive:count', { config: inline() })
  assert.is(count.report.status, 'success')
  assert.equal(count.result, { due })
  assert.ok(due >= 25)

  const before = await counts()
  const planned = await runTask('archive:events', { config: inline(), dryRun: true })
  assert.is(planned.report.steps[0]!.status, 'planned')
  assert.match(planned.report.steps[0]!.plan![0]!, /would move \d+ events older than 60 days/)
  assert.equal(await counts(), before)
})

test('dbops/testing: runPipeline runs a pipeline of the project config file with the given env', async () => {
  const due = Number(
    (
      await db.query<{ n: string }>(
        `select count(*) as n from events where at < now() - interval '30 days'`,
      )
    ).rows[0]!.n,
  )
  assert.ok(due >= 25)
  const outside = process.env.DATABASE_URL
  const run = await runPipeline('archive', {
    config: path.join(exampleDir, 'dbops.config.ts'),
    env: { DATABASE_URL: db.url },
  })
  assert.is(run.report.status, 'success', JSON.stringify(run.report.steps))
  assert.equal(
    run.report.steps.map((s) => s.id),
    ['archive:count', 'archive:events'],
  )
  assert.equal(run.results['archive:events'], { moved: due })
  assert.is(process.env.DATABASE_URL, outside, 'the env given to the run is restored afterwards')
})

test('dbops/testing: a failed step is in the report, not thrown', async () => {
  await db.query('alter table events_archive rename to events_archive_gone')
  try {
    const run = await runTask('archive:events', {
      config: defineConfig({
        connection: { url: db.url },
        plugins: [archive({ olderThanDays: 1 })],
      }),
    })
    assert.is(run.report.status, 'failed')
    assert.match(run.report.steps[0]!.error!.message, /events_archive/)
  } finally {
    await db.query('alter table events_archive_gone rename to events_archive')
  }
})

test.run()
