import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, TEST_PASSWORD, type TestDatabase } from '@dbops/test-utils'
import {
  configSource,
  resetDatabase,
  sleepMs,
  spawnWatch,
  tcpProxy,
  watchProject,
} from './watch-helpers.ts'

let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('watch_faults')
})
test.after(async () => {
  await db.drop()
})

test('a failing pipeline does not stop the watcher: it is recorded and the other schedules go on', async () => {
  const project = await watchProject(`schedules: {
    broken: { cron: '* * * * * *', run: 'fail' },
    fine: { cron: '* * * * * *', run: 'insert' },
  },`)
  const w = spawnWatch([], { cwd: project.dir, env: { DATABASE_URL: db.url } })
  try {
    const count = (schedule: string, status: string) =>
      w
        .events()
        .filter((e) => e.event === 'run.finished' && e.schedule === schedule && e.status === status)
        .length
    await w.waitFor(() => count('broken', 'failed') >= 3 && count('fine', 'success') >= 3, 10_000)
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    const failure = w.events().find((e) => e.event === 'run.finished' && e.schedule === 'broken')!
    assert.is(failure.level, 'error')
    assert.match(failure.error, /t:fail: the test task failed on purpose/)
    const { rows } = await db.query<{ schedule: string; status: string; error: string | null }>(
      `select schedule, status, error from dbops.runs`,
    )
    assert.ok(
      rows
        .filter((r) => r.schedule === 'broken')
        .every((r) => r.status === 'failed' && /failed on purpose/.test(r.error ?? '')),
    )
    assert.ok(rows.filter((r) => r.schedule === 'fine').every((r) => r.status === 'success'))
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test('the database down at start and again later: reported, retried with backoff, the watcher carries on; no password in the output', async () => {
  await resetDatabase(db)
  const proxy = await tcpProxy({ host: '127.0.0.1', port: db.cluster.port })
  const url = new URL(db.passwordUrl)
  url.port = String(proxy.port)
  const project = await watchProject(
    `schedules: { every: { cron: '* * * * * *', run: 'insert' } },`,
  )
  const w = spawnWatch([], { cwd: project.dir, env: { DATABASE_URL: url.toString() } })
  try {
    await w.waitFor((e) => e.event === 'db.retry')
    const missed = await w.waitFor((e) => e.event === 'tick.missed')
    assert.match(missed.error, /nothing accepts connections at 127\.0\.0\.1:\d+/)
    assert.ok(w.events().some((e) => e.event === 'db.down'))

    await proxy.up()
    await w.waitFor((e) => e.event === 'db.up', 8000)
    const firstRun = await w.waitFor((e) => e.event === 'run.finished' && e.status === 'success')

    await proxy.down()
    const downAgain = Date.now()
    await w.waitFor((e) => e.event === 'tick.missed' && Date.parse(e.time) > downAgain, 5000)
    await proxy.up()
    await w.waitFor(
      (e) =>
        e.event === 'run.finished' &&
        e.status === 'success' &&
        Date.parse(e.time) > Date.now() - 500 &&
        e.runId !== firstRun.runId &&
        Date.parse(e.time) > downAgain,
      8000,
    )

    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    assert.not.match(w.output(), TEST_PASSWORD)
    assert.not.match(w.output(), encodeURIComponent(TEST_PASSWORD))
    const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from seen`)
    assert.ok(rows[0]!.n >= 2)
  } finally {
    w.kill('SIGKILL')
    await proxy.down()
    await project.remove()
  }
})

test('SIGHUP reloads the config: an invalid one is refused with the reason and the old one keeps running; a run in flight is not dropped', async () => {
  await resetDatabase(db)
  const project = await watchProject(`schedules: { long: { cron: '* * * * * *', run: 'slow' } },`)
  const w = spawnWatch([], { cwd: project.dir, env: { DATABASE_URL: db.url, SLOW_MS: '2500' } })
  try {
    const inFlight = await w.waitFor((e) => e.event === 'run.started')

    await project.write(
      'dbops.config.ts',
      configSource(
        `schedules: { long: { cron: '* * * * * *', run: 'slow' }, typo: { cron: '61 * * * *', run: 'insert' } },`,
      ),
    )
    w.kill('SIGHUP')
    const refused = await w.waitFor((e) => e.event === 'config.reload-failed')
    assert.match(refused.message, /schedules\.typo\.cron: invalid cron expression '61 \* \* \* \*'/)
    assert.match(refused.message, /previous one stays in effect/)

    await project.write(
      'dbops.config.ts',
      configSource(
        `schedules: { long: { cron: '* * * * * *', run: 'slow' }, fast: { cron: '* * * * * *', run: 'insert', tags: ['fast'] } },`,
      ),
    )
    w.kill('SIGHUP')
    const reloaded = await w.waitFor((e) => e.event === 'config.reloaded')
    assert.equal(reloaded.added, ['fast'])
    const fast = await w.waitFor((e) => e.event === 'run.finished' && e.schedule === 'fast')
    assert.is(fast.status, 'success')
    const finished = await w.waitFor(
      (e) => e.event === 'run.finished' && e.runId === inFlight.runId,
      5000,
    )
    assert.is(finished.status, 'success')

    // A reload that removes every schedule: the watcher idles (and stays up) until told otherwise.
    await project.write('dbops.config.ts', configSource(''))
    w.kill('SIGHUP')
    await w.waitFor((e) => e.event === 'config.no-schedules')
    const stillUp = await Promise.race([w.exited.then(() => false), sleepMs(1200).then(() => true)])
    assert.ok(stillUp, 'the watcher exited after its schedules were removed')

    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    const { rows } = await db.query<{ tags: string[] }>(`select tags from seen`)
    assert.ok(rows.length >= 1 && rows.every((r) => r.tags.join() === 'fast'))
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test.run()
