import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, runCli, type TestDatabase } from '@dbops/test-utils'
import {
  freePort,
  resetDatabase,
  sleepMs,
  spawnWatch,
  startReceiver,
  until,
  watchProject,
} from './watch-helpers.ts'

let db: TestDatabase
let receiver: Awaited<ReturnType<typeof startReceiver>>
test.before(async () => {
  db = await createTestDatabase('watch_notify')
  receiver = await startReceiver()
})
test.after(async () => {
  await receiver.close()
  await db.drop()
})

test('webhooks: failure, then recovery (first success after a failure), success only where asked; Slack payload; dead-man pings; no URL token in the logs', async () => {
  await resetDatabase(db)
  await db.query('create table flaky (fail boolean); insert into flaky values (true)')
  const json = '/hooks/json/TOKEN-json-5f2c'
  const slack = '/hooks/slack/T0/B0/TOKEN-slack-9a1e'
  const ping = '/ping/TOKEN-ping-77d1'
  const project = await watchProject(`
  notify: [
    { webhook: '${receiver.url(json)}' },
    { webhook: '${receiver.url(slack)}', format: 'slack', on: ['failure', 'recovery', 'success'] },
  ],
  schedules: { flaky: { cron: '* * * * * *', run: 'flaky', ping: '${receiver.url(ping)}' } },`)
  const w = spawnWatch([], { cwd: project.dir, env: { DATABASE_URL: db.url } })
  const to = (path: string) => receiver.received.filter((r) => r.path === path)
  try {
    await until(() => to(json).some((r) => r.body.event === 'failure'), 8000, 'a failure webhook')
    const failure = to(json).find((r) => r.body.event === 'failure')!
    assert.is(failure.method, 'POST')
    assert.is(failure.body.source, 'dbops')
    assert.is(failure.body.run.schedule, 'flaky')
    assert.is(failure.body.run.status, 'failed')
    assert.is(failure.body.run.pid, w.pid)
    assert.match(failure.body.run.error, /t:flaky: flaky is set to fail/)
    assert.match(
      failure.body.text,
      /schedule 'flaky' \(flaky\) FAILED on .*: t:flaky: flaky is set to fail/,
    )
    assert.equal(
      failure.body.run.steps.map((s: { id: string; status: string }) => `${s.id}=${s.status}`),
      ['t:flaky=failed'],
    )

    await db.query('update flaky set fail = false')
    await until(() => to(json).some((r) => r.body.event === 'recovery'), 8000, 'a recovery webhook')
    const recoveredAt = to(json).find((r) => r.body.event === 'recovery')!.at
    await until(
      () =>
        to(slack).some(
          (r) =>
            r.at > recoveredAt && /succeeded/.test(r.body.text) && !/recovered/.test(r.body.text),
        ),
      8000,
      'a plain success on the slack hook',
    )
    await sleepMs(300)
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())

    // The JSON hook asked for the defaults: failures and the one recovery, no plain successes.
    assert.equal([...new Set(to(json).map((r) => r.body.event))].sort(), ['failure', 'recovery'])
    assert.is(to(json).filter((r) => r.body.event === 'recovery').length, 1)
    assert.ok(
      to(json)
        .filter((r) => r.body.event === 'failure')
        .every((r) => r.at < recoveredAt),
    )
    // Slack: a `text` message for each kind.
    const texts = to(slack).map((r) => r.body.text as string)
    assert.ok(
      texts.some(
        (t) =>
          t.startsWith(':rotating_light: dbops:') && /FAILED/.test(t) && /`t:flaky` failed/.test(t),
      ),
    )
    assert.ok(texts.some((t) => t.startsWith(':white_check_mark: dbops:') && /recovered/.test(t)))
    assert.ok(to(slack).every((r) => Object.keys(r.body).join() === 'text'))
    // Pings: start before each run, /fail on failures, the bare URL on success.
    assert.ok(to(`${ping}/start`).length >= 2)
    assert.ok(to(`${ping}/fail`).length >= 1)
    assert.ok(to(ping).length >= 1)
    assert.ok(to(`${ping}/fail`).every((r) => r.at < recoveredAt + 1000))
    assert.not.match(w.output(), 'TOKEN-')
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test('a webhook endpoint that is down or failing: the pipeline still succeeds, the failed delivery is retried and logged without the URL token', async () => {
  await resetDatabase(db)
  const closed = await freePort()
  const project = await watchProject(`
  notify: [
    { webhook: 'http://127.0.0.1:${closed}/hooks/TOKEN-refused-31', on: ['success'] },
    { webhook: '${receiver.url('/status/503/TOKEN-unavailable-42')}', on: ['success'] },
  ],
  schedules: { every: { cron: '* * * * * *', run: 'insert' } },`)
  const w = spawnWatch([], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url, DBOPS_NOTIFY_RETRY_DELAYS: '100ms,200ms' },
  })
  try {
    const refused = await w.waitFor(
      (e) => e.event === 'notify.failed' && e.message.includes(`127.0.0.1:${closed}`),
      8000,
    )
    assert.match(
      refused.message,
      /could not deliver the success notification to http:\/\/127\.0\.0\.1:\d+\/\[redacted\] after 3 attempts: ECONNREFUSED/,
    )
    const unavailable = await w.waitFor(
      (e) => e.event === 'notify.failed' && e.message.includes(`:${receiver.port}`),
      8000,
    )
    assert.match(unavailable.message, /after 3 attempts: HTTP 503/)
    assert.ok(receiver.received.filter((r) => r.path.startsWith('/status/503/')).length >= 3)
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    const finished = w.events().filter((e) => e.event === 'run.finished')
    assert.ok(finished.length >= 1 && finished.every((e) => e.status === 'success'))
    const { rows } = await db.query<{ status: string }>(`select status from dbops.runs`)
    assert.ok(rows.length >= 1 && rows.every((r) => r.status === 'success'))
    assert.not.match(w.output(), 'TOKEN-')
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test('dbops run notifies the same way: a failure to the webhook, a success where asked, nothing for a dry run', async () => {
  await resetDatabase(db)
  const hook = '/hooks/oneshot/TOKEN-oneshot-8c'
  const all = '/hooks/all/TOKEN-all-9d'
  const project = await watchProject(`
  notify: [{ webhook: '${receiver.url(hook)}' }, { webhook: '${receiver.url(all)}', on: ['success', 'failure'], format: 'slack' }],`)
  const env = { DATABASE_URL: db.url }
  const to = (path: string) => receiver.received.filter((r) => r.path === path)
  try {
    const failed = await runCli(['run', 'fail'], { cwd: project.dir, env })
    assert.is(failed.code, 1)
    assert.is(to(hook).length, 1) // delivered before the process exited
    assert.is(to(hook)[0]!.body.event, 'failure')
    assert.is(to(hook)[0]!.body.run.schedule, undefined)
    assert.equal(to(hook)[0]!.body.run.pipelines, ['fail'])
    assert.match(
      to(hook)[0]!.body.text,
      /dbops: run of fail FAILED on .*: t:fail: the test task failed on purpose/,
    )

    const ok = await runCli(['run', 'insert', '--tag', 'manual'], { cwd: project.dir, env })
    assert.is(ok.code, 0, ok.stderr)
    assert.is(to(hook).length, 1) // the default is failure and recovery only
    assert.is(to(all).length, 2)
    assert.match(to(all)[1]!.body.text, /dbops: run of insert succeeded/)

    const dry = await runCli(['run', 'fail', '--dry-run'], { cwd: project.dir, env })
    assert.is(dry.code, 1) // t:fail does not mutate, so it runs (and fails) under --dry-run too
    assert.is(to(hook).length, 1)
    assert.is(to(all).length, 2)
    assert.not.match(failed.stderr + ok.stderr, 'TOKEN-')
  } finally {
    await project.remove()
  }
})

test.run()
