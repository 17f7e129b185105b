// Webhook and ping URLs carry their token in the path or query (Slack's /services/T0/B0/<token>,
// healthchecks.io's /<uuid>, ?token=): no log line, error, --json document or /metrics scrape
// shows more of them than scheme and host (issue 12, 5f).
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'
import { pingUrl } from '../src/notify/notifier.ts'
import * as secrets from '../src/secrets.ts'

const { redact, scrub } = secrets
import { freePort, spawnWatch, startReceiver, until, watchProject } from './watch-helpers.ts'

test('scrub: a secret URL never survives in any form — with userinfo, normalised, or as a ping variant', () => {
  const withUser =
    'https://hook-user:hook-pass@hooks.example.com/services/T0/B0/TOKEN-A?token=TOKEN-B'
  // What undici says when asked to fetch such a URL.
  const said = scrub(
    `Request cannot be constructed from a URL that includes credentials: ${withUser}`,
    [withUser],
  )
  assert.is(
    said,
    'Request cannot be constructed from a URL that includes credentials: https://hooks.example.com/[redacted]',
  )

  const loud = 'HTTPS://Hooks.Example.com:443/T0/TOKEN-C'
  assert.is(
    scrub(`posting to ${new URL(loud).href} failed`, [loud]),
    'posting to https://hooks.example.com/[redacted] failed',
  )

  const ping = 'https://hc-ping.example/TOKEN-D?key=TOKEN-E'
  const start = scrub(`GET ${pingUrl(ping, 'start')} timed out`, [ping])
  assert.not.match(start, /TOKEN/)
  assert.match(start, /^GET https:\/\/hc-ping\.example\/\[redacted\]/)

  const { redactEndpoint } = secrets as Record<string, any> // (absent before the fix)
  assert.is(redactEndpoint('http://127.0.0.1:8080/'), 'http://127.0.0.1:8080')
  assert.is(redactEndpoint('https://u:p@h.example/x?y=z#w'), 'https://h.example/[redacted]')
  assert.is(redactEndpoint('not a url'), '[redacted]')
})

test('redact (dbops config, --json): webhook and ping values keep scheme and host only', () => {
  const view = redact({
    notify: [{ webhook: 'https://hooks.slack.com/services/T0/B0/TOKEN-F', on: ['failure'] }],
    schedules: { daily: { cron: '0 2 * * *', ping: 'https://hc-ping.com/TOKEN-G' } },
  }) as { notify: { webhook: string }[]; schedules: { daily: { ping: string } } }
  assert.is(view.notify[0]!.webhook, 'https://hooks.slack.com/[redacted]')
  assert.is(view.schedules.daily.ping, 'https://hc-ping.com/[redacted]')
})

const CONFIG = (body: string) => `import { defineConfig } from 'dbops'
import { definePlugin, DbopsError } from 'dbops/plugin'
import { z } from 'zod'
const leaky = definePlugin({ name: 'leaky', namespace: 'leak', options: z.object({ url: z.string() }), setup: (o) => ({ tasks: {
  fail: { title: 'fails naming the webhook', run: async () => { throw new DbopsError('LEAK', 'could not post to ' + new URL(o.url).href) } },
} }) })
const webhook = process.env.HOOK!
export default defineConfig({
  connection: { url: 'postgres://dbops@127.0.0.1:1/app' },
  plugins: [leaky({ url: webhook })],
  pipelines: { fail: ['leak:fail'] },
  ${body}
})
`

test('config: a webhook or ping URL with a user name or password, or not http(s), is refused (exit 2) without echoing it', async () => {
  const cases = [
    {
      body: `notify: [{ webhook }]`,
      hook: 'https://user:SECRET-PW@hooks.example.com/services/TOKEN-H',
      problem: /notify\[0\]\.webhook: .*user name or password/,
    },
    {
      body: `notify: [], schedules: { s: { cron: '0 * * * *', run: 'fail', ping: 'https://user:SECRET-PW@hc-ping.com/TOKEN-H' } }`,
      hook: 'https://hooks.example.com/x',
      problem: /schedules\.s\.ping: .*user name or password/,
    },
    {
      body: `notify: [{ webhook: 'ftp://files.example.com/TOKEN-H' }]`,
      hook: 'https://hooks.example.com/x',
      problem: /notify\[0\]\.webhook: .*http or https/,
    },
  ]
  for (const c of cases) {
    const work = await makeWorkdir({ 'dbops.config.ts': CONFIG(c.body) })
    try {
      const r = await runCli(['run', 'fail'], { cwd: work.dir, env: { HOOK: c.hook } })
      assert.is(r.code, 2, r.stderr)
      assert.match(r.stderr, c.problem)
      assert.not.match(r.stderr + r.stdout, /SECRET-PW|TOKEN-H/)
    } finally {
      await work.remove()
    }
  }
})

test('dbops run: a failed delivery names the endpoint by scheme and host; a task error quoting the URL is redacted in text and --json', async () => {
  const receiver = await startReceiver()
  const hook = receiver.url('/status/503/services/T0/B0/TOKEN-I?token=TOKEN-J')
  const work = await makeWorkdir({ 'dbops.config.ts': CONFIG(`notify: [{ webhook }]`) })
  try {
    const env = { HOOK: hook, DBOPS_NOTIFY_RETRY_DELAYS: '10ms' }
    const text = await runCli(['run', 'fail'], { cwd: work.dir, env })
    assert.is(text.code, 1, text.stderr)
    assert.match(
      text.stderr,
      new RegExp(
        `could not deliver the failure notification to http://127\\.0\\.0\\.1:${receiver.port}/\\[redacted\\] after 2 attempts: HTTP 503`,
      ),
    )
    assert.match(
      text.stderr,
      new RegExp(`could not post to http://127\\.0\\.0\\.1:${receiver.port}/\\[redacted\\]`),
    )
    const json = await runCli(['run', 'fail', '--json'], { cwd: work.dir, env })
    assert.is(json.code, 1, json.stderr)
    assert.match(
      JSON.parse(json.stdout).steps[0].error.message,
      /^could not post to http:\/\/127\.0\.0\.1:\d+\/\[redacted\]$/,
    )
    const config = await runCli(['config', '--json'], { cwd: work.dir, env })
    assert.is(
      JSON.parse(config.stdout).notify[0].webhook,
      `http://127.0.0.1:${receiver.port}/[redacted]`,
    )
    for (const r of [text, json, config])
      assert.not.match(r.stdout + r.stderr, /TOKEN-/, r.stdout + r.stderr)
  } finally {
    await work.remove()
    await receiver.close()
  }
})

let db: TestDatabase
test('dbops watch: failing pings and webhooks are logged and counted in /metrics by scheme and host only', async () => {
  db = await createTestDatabase('secret_urls')
  const receiver = await startReceiver()
  const port = await freePort()
  const project = await watchProject(`
  notify: [{ webhook: '${receiver.url('/status/500/hooks/TOKEN-K?token=TOKEN-L')}', on: ['success'] }],
  schedules: { every: { cron: '* * * * * *', run: 'insert', ping: '${receiver.url('/status/503/ping/TOKEN-M?key=TOKEN-N')}' } },`)
  const w = spawnWatch(['--metrics-port', String(port)], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url, DBOPS_NOTIFY_RETRY_DELAYS: '10ms' },
  })
  try {
    const failedPing = await w.waitFor(
      (e) => e.event === 'notify.failed' && /ping/.test(e.message),
      15_000,
    )
    assert.match(
      failedPing.message,
      new RegExp(
        `to http://127\\.0\\.0\\.1:${receiver.port}/\\[redacted\\] after 2 attempts: HTTP 503`,
      ),
    )
    await w.waitFor(
      (e) => e.event === 'notify.failed' && /success notification/.test(e.message),
      15_000,
    )
    let metrics = ''
    await until(
      async () => {
        metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
        return /dbops_notify_deliveries_total\{[^}]*kind="webhook"[^}]*outcome="failed"/.test(
          metrics,
        )
      },
      15_000,
      'the failed webhook delivery in /metrics',
    )
    assert.match(
      metrics,
      new RegExp(
        `^dbops_notify_deliveries_total\\{endpoint="http://127\\.0\\.0\\.1:${receiver.port}",kind="ping",outcome="failed"\\} \\d+$`,
        'm',
      ),
    )
    assert.not.match(metrics, /TOKEN-/)
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    assert.not.match(w.output(), /TOKEN-/)
  } finally {
    w.kill('SIGKILL')
    await project.remove()
    await receiver.close()
    await db.drop()
  }
})

test.run()
