import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, runCli, type TestDatabase } from '@dbops/test-utils'
import { CREATE_SCHEMA } from '../src/scheduler/sql.ts'
import { freePort, resetDatabase, sleepMs, spawnWatch, watchProject } from './watch-helpers.ts'

let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('watch_observe')
})
test.after(async () => {
  await db.drop()
})

test('dbops runs on a database no watcher used yet says so', async () => {
  const project = await watchProject(
    `schedules: { every: { cron: '* * * * * *', run: 'insert' } },`,
  )
  try {
    const r = await runCli(['runs'], { cwd: project.dir, env: { DATABASE_URL: db.url } })
    assert.is(r.code, 0, r.stderr)
    assert.match(r.stdout, /No scheduled runs recorded in postgres@127\.0\.0\.1:\d+\/watch_observe/)
    const j = await runCli(['runs', '--json'], { cwd: project.dir, env: { DATABASE_URL: db.url } })
    assert.equal(JSON.parse(j.stdout), { runs: [] })
    const bad = await runCli(['runs', '--limit', 'lots'], {
      cwd: project.dir,
      env: { DATABASE_URL: db.url },
    })
    assert.is(bad.code, 2)
    assert.match(bad.stderr, /--limit must be a whole number/)
  } finally {
    await project.remove()
  }
})

test('--metrics-port: Prometheus metrics per schedule and /healthz; dbops runs lists the history as a table and as JSON', async () => {
  await resetDatabase(db)
  const port = await freePort()
  const project = await watchProject(`schedules: {
    every: { cron: '* * * * * *', run: 'insert' },
    broken: { cron: '* * * * * *', run: 'fail' },
    health: { cron: '* * * * * *', run: 'checks' },
  },`)
  const w = spawnWatch(['--metrics-port', String(port)], {
    cwd: project.dir,
    env: { DATABASE_URL: db.url },
  })
  try {
    const started = await w.waitFor((e) => e.event === 'watch.started')
    assert.is(started.metricsPort, port)
    await w.waitFor(
      () =>
        ['every', 'broken', 'health'].every((name) =>
          w.events().some((e) => e.event === 'run.finished' && e.schedule === name),
        ) && w.events().filter((e) => e.event === 'run.finished').length >= 4,
    )
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const value = (pattern: RegExp) => Number(pattern.exec(metrics)?.[1])
    assert.ok(
      value(
        /^dbops_schedule_runs_total\{schedule="every",pipeline="insert",status="success"\} (\d+)$/m,
      ) >= 1,
      metrics,
    )
    assert.ok(
      value(
        /^dbops_schedule_runs_total\{schedule="broken",pipeline="fail",status="failed"\} (\d+)$/m,
      ) >= 1,
    )
    assert.ok(
      value(/^dbops_schedule_failures_total\{schedule="broken",pipeline="fail"\} (\d+)$/m) >= 1,
    )
    const lastSuccess = value(
      /^dbops_schedule_last_success_timestamp_seconds\{schedule="every",pipeline="insert"\} ([\d.]+)$/m,
    )
    assert.ok(Math.abs(lastSuccess - Date.now() / 1000) < 10)
    assert.ok(
      value(
        /^dbops_schedule_last_failure_timestamp_seconds\{schedule="broken",pipeline="fail"\} ([\d.]+)$/m,
      ) > 0,
    )
    assert.match(
      metrics,
      /^dbops_schedule_run_duration_seconds_count\{schedule="every",pipeline="insert",status="success"\} \d+$/m,
    )
    assert.is(value(/^dbops_task_bytes\{schedule="every",task="t:insert"\} (\d+)$/m), 123)
    assert.ok(
      value(/^dbops_schedule_next_tick_timestamp_seconds\{schedule="every"\} ([\d.]+)$/m) >
        Date.now() / 1000 - 2,
    )
    assert.is(value(/^dbops_watcher_database_up (\d)$/m), 1)
    assert.is(
      value(/^dbops_health_check_status\{schedule="health",check="connections"\} (\d)$/m),
      0,
    )
    assert.is(value(/^dbops_health_check_status\{schedule="health",check="bloat"\} (\d)$/m), 1)
    assert.is(
      value(/^dbops_health_check_status\{schedule="health",check="replication"\} (\d)$/m),
      2,
    )
    assert.match(metrics, /^dbops_pool_connections\{state="max"\} 4$/m)
    assert.match(metrics, /^process_resident_memory_bytes \d+/m)

    const health = await fetch(`http://127.0.0.1:${port}/healthz`)
    assert.is(health.status, 200)
    const body = (await health.json()) as {
      ok: boolean
      database: string
      schedules: Record<string, { next: string }>
    }
    assert.is(body.ok, true)
    assert.is(body.database, 'up')
    assert.ok(Date.parse(body.schedules.every!.next) > Date.now() - 2000)
    assert.is((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404)

    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    await fetch(`http://127.0.0.1:${port}/healthz`).then(
      () => assert.unreachable('the metrics server still answers after the watcher stopped'),
      () => {},
    )

    const table = await runCli(['runs', '--limit', '50'], {
      cwd: project.dir,
      env: { DATABASE_URL: db.url },
    })
    assert.is(table.code, 0, table.stderr)
    const lines = table.stdout.trim().split('\n')
    assert.match(lines[0]!, /^STARTED\s+SCHEDULE\s+STATUS\s+DURATION\s+WATCHER\s+ERROR$/)
    assert.ok(
      lines.some((l) => /\severy\s+success\s+[\d.]+s\s+\S+:\d+$/.test(l)),
      table.stdout,
    )
    assert.ok(
      lines.some((l) => /\sbroken\s+failed\s+.*t:fail: the test task failed on purpose$/.test(l)),
      table.stdout,
    )

    const json = await runCli(['runs', '--json', '--schedule', 'every', '--limit', '2'], {
      cwd: project.dir,
      env: { DATABASE_URL: db.url },
    })
    const { runs } = JSON.parse(json.stdout) as { runs: Record<string, any>[] }
    assert.is(runs.length, 2)
    assert.ok(
      runs.every(
        (r) =>
          r.schedule === 'every' && r.status === 'success' && r.pid === w.pid && r.error === null,
      ),
    )
    assert.ok(Date.parse(runs[0]!.startedAt) >= Date.parse(runs[1]!.startedAt))
    assert.equal(Object.keys(runs[0]!).sort(), [
      'durationMs',
      'endedAt',
      'error',
      'host',
      'id',
      'pid',
      'pipelines',
      'queuedAt',
      'schedule',
      'startedAt',
      'status',
      'tags',
      'tick',
      'watcher',
    ])
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test("catchUp 'latest': a tick missed while no watcher ran is run once at start; 'none' and schedules without history are not", async () => {
  await resetDatabase(db)
  await db.query(CREATE_SCHEMA)
  for (const schedule of ['yearly', 'yearlyNone'])
    await db.query(
      `insert into dbops.schedule_ticks (schedule, tick, claimed_by) values ($1, '2020-01-01T00:00:00Z', 'old-watcher')`,
      [schedule],
    )
  const project = await watchProject(`schedules: {
    yearly: { cron: '0 0 1 1 *', timezone: 'UTC', run: 'insert', catchUp: 'latest', tags: ['caught-up'] },
    yearlyNone: { cron: '0 0 1 1 *', timezone: 'UTC', run: 'insert', catchUp: 'none' },
    fresh: { cron: '0 0 1 1 *', timezone: 'UTC', run: 'insert', catchUp: 'latest' },
  },`)
  const env = { DATABASE_URL: db.url }
  const w = spawnWatch([], { cwd: project.dir, env })
  try {
    const jan1 = `${new Date().getUTCFullYear()}-01-01T00:00:00.000Z`
    const caught = await w.waitFor((e) => e.event === 'run.finished')
    assert.is(caught.schedule, 'yearly')
    assert.is(caught.tick, jan1)
    assert.is(caught.status, 'success')
    await sleepMs(500)
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    assert.equal(
      w
        .events()
        .filter((e) => e.event === 'tick.catch-up')
        .map((e) => e.schedule),
      ['yearly'],
    )

    // The next start has nothing to catch up: that tick is claimed now.
    const again = spawnWatch([], { cwd: project.dir, env })
    await again.waitFor((e) => e.event === 'watch.started')
    await sleepMs(1200)
    again.kill('SIGTERM')
    assert.is((await again.exited).code, 0, again.output())
    assert.not.ok(
      again.events().some((e) => e.event === 'tick.catch-up' || e.event === 'run.started'),
    )
    const { rows } = await db.query<{ schedule: string; tags: string[] }>(
      `select schedule, tags from dbops.runs`,
    )
    assert.equal(rows, [{ schedule: 'yearly', tags: ['caught-up'] }])
  } finally {
    w.kill('SIGKILL')
    await project.remove()
  }
})

test.run()
