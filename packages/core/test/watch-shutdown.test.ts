import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import { spawnWatch, watchProject, resetDatabase } from './watch-helpers.ts'

let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('watch_stop')
})
test.after(async () => {
  await db.drop()
})

const history = () =>
  db
    .query<{
      id: string
      status: string
      error: string | null
      started_at: Date
      ended_at: Date | null
    }>(`select id, status, error, started_at, ended_at from dbops.runs order by started_at`)
    .then((r) => r.rows)

test('SIGTERM while a run is going: it may finish within the shutdown timeout; the watcher exits 0', async () => {
  const project = await watchProject(`schedules: { long: { cron: '* * * * * *', run: 'slow' } },`)
  const w = spawnWatch(['--shutdown-timeout', '10s'], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url, SLOW_MS: '1500' },
  })
  try {
    const started = await w.waitFor((e) => e.event === 'run.started')
    w.kill('SIGTERM')
    const sent = Date.now()
    const exit = await w.exited
    assert.is(exit.code, 0, w.output())
    assert.ok(Date.now() - sent < 5000, 'it did not wait for the full shutdown timeout')
    const finished = w.events().find((e) => e.event === 'run.finished' && e.runId === started.runId)
    assert.is(finished?.status, 'success')
    assert.ok(w.events().some((e) => e.event === 'watch.stopping' && e.running === 1))
    // Nothing new started after the signal.
    assert.is(w.events().filter((e) => e.event === 'run.started').length, 1)
    const runs = await history()
    assert.equal(
      runs.map((r) => r.status),
      ['success'],
    )
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test('SIGTERM while a long task runs: aborted through its signal after the shutdown timeout, exit 0, history says so', async () => {
  await resetDatabase(db)
  const project = await watchProject(`schedules: { long: { cron: '* * * * * *', run: 'slow' } },`)
  const w = spawnWatch(['--shutdown-timeout', '1s'], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url, SLOW_MS: '60000' },
  })
  try {
    const started = await w.waitFor((e) => e.event === 'run.started')
    w.kill('SIGTERM')
    const sent = Date.now()
    const exit = await w.exited
    const took = Date.now() - sent
    assert.is(exit.code, 0, w.output())
    assert.ok(took >= 900 && took < 6000, `stopped after ${took}ms`)
    const finished = w
      .events()
      .find((e) => e.event === 'run.finished' && e.runId === started.runId)!
    assert.is(finished.status, 'aborted')
    assert.match(finished.error, /shutdown timeout \(1s\)/)
    const [run] = await history()
    assert.is(run!.id, started.runId)
    assert.is(run!.status, 'aborted')
    assert.match(run!.error ?? '', /t:slow: aborted: the watcher was stopped \(SIGTERM\)/)
    assert.ok(run!.ended_at)
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test('overlap skip: a schedule never runs over itself; overlap queue: one tick waits and runs after', async () => {
  await resetDatabase(db)
  const project = await watchProject(`schedules: {
    skipper: { cron: '* * * * * *', run: 'slow', overlap: 'skip' },
    queuer: { cron: '* * * * * *', run: 'slow', overlap: 'queue' },
  },`)
  const w = spawnWatch(['--shutdown-timeout', '5s'], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url, SLOW_MS: '1800' },
  })
  try {
    await w.waitFor((e) => e.event === 'run.dequeued' && e.schedule === 'queuer', 10_000)
    await w.waitFor(
      (e) =>
        e.event === 'run.finished' &&
        e.schedule === 'skipper' &&
        w.events().filter((x) => x.event === 'run.finished' && x.schedule === 'skipper').length >=
          2,
      10_000,
    )
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    assert.ok(w.events().some((e) => e.event === 'tick.skipped' && e.schedule === 'skipper'))
    assert.ok(w.events().some((e) => e.event === 'tick.queued' && e.schedule === 'queuer'))
    for (const schedule of ['skipper', 'queuer']) {
      const { rows } = await db.query<{ started_at: Date; ended_at: Date; status: string }>(
        `select started_at, ended_at, status from dbops.runs where schedule = $1 and started_at is not null order by started_at`,
        [schedule],
      )
      assert.ok(rows.length >= 2, `${schedule}: ${rows.length} runs`)
      for (let i = 1; i < rows.length; i++)
        assert.ok(
          rows[i]!.started_at >= rows[i - 1]!.ended_at,
          `${schedule}: run ${i} started before run ${i - 1} ended`,
        )
    }
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test.run()
