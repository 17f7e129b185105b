import { test } from 'uvu'
import * as assert from 'uvu/assert'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  createTestDatabase,
  makeWorkdir,
  runCli,
  type SignalWhen,
  type TestDatabase,
} from '@dbops/test-utils'

const plugin = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures/steps-plugin.ts',
)
let db: TestDatabase
let work: Awaited<ReturnType<typeof makeWorkdir>>

const CONFIG = `
import { defineConfig, env } from 'dbops'
import steps from '${plugin}'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  plugins: [steps({ waitMs: 20_000 })],
  pipelines: {
    good: ['steps:ok', 'steps:other'],
    broken: ['steps:ok', 'steps:fail', 'steps:other'],
    tolerant: [{ task: 'steps:fail', continueOnError: true }, 'steps:other'],
    fanout: [{ parallel: ['steps:ok', 'steps:other'] }, 'steps:write'],
    nested: ['good', 'steps:write'],
    slow: ['steps:wait', 'steps:other'],
  },
})
`

test.before(async () => {
  db = await createTestDatabase('runner')
  await db.query(
    'create table ran (id serial, step text, at timestamptz default clock_timestamp())',
  )
  work = await makeWorkdir({ 'dbops.config.ts': CONFIG })
})
test.after(async () => {
  await work.remove()
  await db.drop()
})
test.before.each(async () => {
  await db.query('truncate ran')
})

const SLEEPING = `select count(*)::int as n from pg_stat_activity where datname = current_database() and query like 'select pg_sleep%' and state = 'active'`
const ran = async () =>
  (await db.query<{ step: string }>('select step from ran order by id')).rows.map((r) => r.step)
const cli = (args: string[], extra: { signalWhen?: SignalWhen } = {}) =>
  runCli(args, { cwd: work.dir, env: { DATABASE_URL: db.url }, ...extra })

test('a failing step stops its pipeline: exit 1, the error sentence and hint, later steps not run', async () => {
  const result = await cli(['run', 'broken', '--json'])
  assert.is(result.code, 1)
  const report = JSON.parse(result.stdout)
  assert.is(report.status, 'failed')
  assert.equal(
    report.steps.map((s: { status: string }) => s.status),
    ['success', 'failed', 'not-run'],
  )
  assert.equal(report.steps[1].error, {
    code: 'STEP_BROKEN',
    message: 'the step is broken on purpose',
    hint: 'This is a test.',
  })
  assert.equal(await ran(), ['ok', 'fail'])
})

test('continueOnError lets the pipeline go on but the run still exits 1', async () => {
  const result = await cli(['run', 'tolerant'])
  assert.is(result.code, 1)
  assert.equal(await ran(), ['fail', 'other'])
  assert.match(result.stderr, /FAILED .*1 succeeded, 1 failed/)
})

test('parallel steps both run, then the next step; nested pipelines expand', async () => {
  assert.is((await cli(['run', 'fanout'])).code, 0)
  assert.equal((await ran()).sort(), ['ok', 'other', 'write'])
  await db.query('truncate ran')
  assert.is((await cli(['run', 'nested'])).code, 0)
  assert.equal(await ran(), ['ok', 'other', 'write'])
})

test('--dry-run runs read-only tasks and shows the plan of mutating ones', async () => {
  const result = await cli(['run', 'nested', '--dry-run', '--json'])
  assert.is(result.code, 0)
  const report = JSON.parse(result.stdout)
  assert.is(report.dryRun, true)
  assert.equal(
    report.steps.map((s: { status: string }) => s.status),
    ['success', 'success', 'planned'],
  )
  assert.equal(report.steps[2].plan, ['would insert one row into ran'])
  assert.equal(await ran(), ['ok', 'other'])
})

test('an unknown pipeline gets a "did you mean" and exit 2', async () => {
  const result = await cli(['run', 'godo'])
  assert.is(result.code, 2)
  assert.match(result.stderr, /there is no pipeline or task named 'godo'; did you mean 'good'\?/)
})

test('SIGINT aborts the running query and child work: exit 130, the step is aborted, not done', async () => {
  const started = Date.now()
  // Interrupt once the step's query is running on the server, however long start-up took.
  const sleeping = async () => (await db.query<{ n: number }>(SLEEPING)).rows[0]!.n > 0
  const result = await cli(['run', 'slow', '--json'], {
    signalWhen: { signal: 'SIGINT', when: sleeping },
  })
  assert.is(result.code, 130)
  assert.ok(Date.now() - started < 20_000, 'the abort reached the query (it sleeps 20 s)')
  const report = JSON.parse(result.stdout)
  assert.is(report.status, 'aborted')
  assert.equal(
    report.steps.map((s: { status: string }) => s.status),
    ['aborted', 'not-run'],
  )
  assert.equal(await ran(), ['wait-start'])
  const { rows } = await db.query<{ n: number }>(SLEEPING)
  assert.is(rows[0]!.n, 0, 'the server-side statement was cancelled')
})

test('--timeout stops a run that takes too long: exit 1 with a sentence', async () => {
  const result = await cli(['run', 'slow', '--timeout', '2s'])
  assert.is(result.code, 1)
  assert.match(
    result.stdout + result.stderr,
    /the run reached its --timeout of 2s: steps:wait \(.*\) was stopped after/,
  )
  assert.equal(await ran(), ['wait-start'])
})

test.run()
