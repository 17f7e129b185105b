// What `dbops run` says when a run goes wrong in ways a task did not plan for (issue 12, 5g):
// --timeout reached inside a task that throws its own AbortError, a task result that refers
// to itself, and a plugin's promise rejection that nobody handles.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeWorkdir, runCli } from '@dbops/test-utils'

const PLUGIN = `
import { definePlugin } from 'dbops'
import { setTimeout as wait } from 'node:timers/promises'
import { z } from 'zod'

export default definePlugin({
  name: 'faulty-plugin',
  namespace: 'f',
  options: z.object({}).default({}),
  setup: () => ({
    tasks: {
      // node:timers/promises rejects with its own AbortError ("The operation was aborted"), as
      // fetch, streams and child processes do: the task never sees why it was aborted.
      stuck: { title: 'waits on a timer', run: async (ctx) => { await wait(600_000, undefined, { signal: ctx.signal }); return {} } },
      circular: {
        title: 'returns a circular result',
        run: async () => {
          const shared = { n: 1 }
          const result: any = { name: 'loop', list: [1], a: shared, b: shared, big: 12n }
          result.self = result
          result.list.push(result)
          return result
        },
      },
      stray: { title: 'leaves a rejection unhandled', run: async () => { Promise.reject(new Error('stray boom')); return { ok: true } } },
      after: { title: 'runs after', run: async () => ({ ran: true }) },
      late: { title: 'rejects after it returned', run: async () => { setTimeout(() => void Promise.reject(new Error('late boom')), 200); return { ok: true } } },
    },
    commands: {
      hang: { summary: 'waits forever', help: 'dbops hang', run: async (_argv, ctx) => { await wait(600_000, undefined, { signal: ctx.signal }); return 0 } },
    },
  }),
})
`

const CONFIG = `import { defineConfig } from 'dbops'
import faulty from './faulty-plugin.ts'
export default defineConfig({
  connection: { url: 'postgres://dbops@127.0.0.1:1/app' },
  plugins: [faulty()],
  pipelines: { stuck: ['f:after', 'f:stuck', 'f:after'], circular: ['f:circular'], stray: ['f:stray', 'f:after'], late: ['f:late'] },
})
`

const work = await makeWorkdir({ 'faulty-plugin.ts': PLUGIN, 'dbops.config.ts': CONFIG })
test.after(() => work.remove())
const cli = (args: string[], env: Record<string, string> = {}) =>
  runCli(args, { cwd: work.dir, env })

test('--timeout reached: exit 1 with a sentence naming the timeout and the step it stopped, not "The operation was aborted"', async () => {
  const text = await cli(['run', 'stuck', '--timeout', '1500ms'])
  assert.is(text.code, 1, text.stderr)
  assert.not.match(text.stderr, /operation was aborted/i)
  assert.match(
    text.stderr,
    /the run reached its --timeout of 1\.5s: f:stuck \(waits on a timer\) was stopped after \d+(\.\d)?s/,
  )

  const json = await cli(['run', 'stuck', '--timeout', '1s', '--json'])
  assert.is(json.code, 1, json.stderr)
  const report = JSON.parse(json.stdout)
  assert.equal(
    report.steps.map((s: any) => s.status),
    ['success', 'aborted', 'not-run'],
  )
  assert.is(report.steps[1].error.code, 'TIMEOUT')
  assert.match(
    report.steps[1].error.message,
    /^the run reached its --timeout of 1s: f:stuck \(waits on a timer\) was stopped after/,
  )

  const command = await cli(['hang', '--timeout', '1s'])
  assert.is(command.code, 1, command.stderr)
  assert.match(command.stderr, /^dbops: dbops hang reached its --timeout of 1s and was stopped/m)
})

test('a task returning a circular result succeeds; the circular part is marked, shared parts are kept', async () => {
  const r = await cli(['run', 'circular', '--json'])
  assert.is(r.code, 0, r.stderr + r.stdout)
  const step = JSON.parse(r.stdout).steps[0]
  assert.is(step.status, 'success')
  assert.equal(step.result, {
    name: 'loop',
    list: [1, '[circular]'],
    a: { n: 1 },
    b: { n: 1 },
    big: '12',
    self: '[circular]',
  })
  assert.not.match(r.stderr, /Maximum call stack/)
})

test('a stray unhandled rejection: one sentence naming the plugin and task, the step failed, exit 1, no stack unless debug', async () => {
  const text = await cli(['run', 'stray'])
  assert.is(text.code, 1, text.stderr)
  assert.match(
    text.stderr,
    /^error: task f:stray \(plugin faulty-plugin\) left a promise rejection unhandled, an internal error: stray boom$/m,
  )
  assert.match(text.stderr, /stray: FAILED .*\(1 succeeded, 1 failed\)/)
  assert.not.match(text.stderr, /^\s+at /m, 'no stack trace')
  assert.not.match(text.stderr, /Node\.js v\d+/)

  const json = await cli(['run', 'stray', '--json'])
  assert.is(json.code, 1, json.stderr)
  const report = JSON.parse(json.stdout)
  assert.is(report.status, 'failed')
  assert.equal(
    report.steps.map((s: any) => s.status),
    ['failed', 'success'],
  )
  assert.is(report.steps[0].error.code, 'INTERNAL')

  const debug = await cli(['run', 'stray'], { DBOPS_LOG_LEVEL: 'debug' })
  assert.is(debug.code, 1)
  assert.match(debug.stderr, /stray boom\n\s+at /, 'the stack under DBOPS_LOG_LEVEL=debug')

  // After the run has reported: the process still cannot exit 0, and says why in one line.
  const late = await cli(['run', 'late'])
  assert.is(late.code, 1, late.stderr)
  assert.match(
    late.stderr,
    /task f:late \(plugin faulty-plugin\) left a promise rejection unhandled, an internal error: late boom$/m,
  )
  assert.not.match(late.stderr, /^\s+at /m)
})

test.run()
