// The watcher's events in-process: the typed emitter, and what each subscriber makes of an
// event — the exact log lines, the Prometheus metrics (real prom-client), the webhooks and
// pings (a real notifier posting to a local HTTP receiver). No watcher process is spawned.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { notifySchema, scheduleSchema } from '../src/config/schema.ts'
import { createNotifier } from '../src/notify/notifier.ts'
import type { RunReport } from '../src/runner/report.ts'
import type { ActiveRun, LostRun } from '../src/scheduler/claim.ts'
import { createEventLog } from '../src/scheduler/event-log.ts'
import { createWatchMetrics } from '../src/scheduler/metrics.ts'
import { logRunEvents } from '../src/scheduler/subscribers/log-runs.ts'
import { logWatcherEvents } from '../src/scheduler/subscribers/log-watcher.ts'
import { recordMetrics } from '../src/scheduler/subscribers/record-metrics.ts'
import { sendPings } from '../src/scheduler/subscribers/send-pings.ts'
import { sendWebhooks } from '../src/scheduler/subscribers/send-webhooks.ts'
import { TypedEmitter } from '../src/scheduler/typed-emitter.ts'
import { createWatchEvents } from '../src/scheduler/watch-events.ts'
import { startReceiver } from './watch-helpers.ts'

const runId = '12345678-aaaa-bbbb-cccc-1234567890ab'
const tick = new Date('2026-01-01T02:00:00Z')
const facts = { schedule: 'nightly', tick, runId, pipelines: ['backup', 'health'] }
const report = (status: RunReport['status'], steps: RunReport['steps'] = []): RunReport => ({
  runId,
  pipelines: facts.pipelines,
  dryRun: false,
  tags: [],
  status,
  startedAt: '2026-01-01T02:00:00.000Z',
  durationMs: 1530,
  steps,
})
const failedStep = {
  id: 't:dump',
  path: ['backup'],
  title: 'dump',
  status: 'failed' as const,
  durationMs: 5,
  error: { code: 'X', message: 'disk full' },
}
const behind: ActiveRun = {
  id: 'run-before',
  status: 'running',
  host: 'db2',
  pid: 42,
  started_at: new Date('2026-01-01T01:59:00Z'),
  queued_at: new Date('2026-01-01T01:58:00Z'),
}
const lost: LostRun = {
  id: 'abcdef01-0000-0000-0000-000000000000',
  schedule: 'nightly',
  tick,
  pipelines: ['backup'],
  host: 'db3',
  pid: 7,
  watcher: 'db3:7:abc',
  started_at: new Date('2026-01-01T02:00:01Z'),
  ended_at: new Date('2026-01-01T02:03:00Z'),
  error: 'its watcher stopped renewing the lease',
}
const quietNotifier = () =>
  createNotifier({ targets: [], logger: createEventLog({ json: true, secrets: () => [] }) })
const finished = (
  status: RunReport['status'],
  error: string | undefined,
  more: { previous?: string; ping?: string; notifier?: ReturnType<typeof createNotifier> } = {},
) => ({
  ...facts,
  notifier: more.notifier ?? quietNotifier(),
  ping: more.ping,
  report: report(status, status === 'failed' ? [failedStep] : []),
  error,
  started: true,
  summary: {
    schedule: 'nightly',
    pipelines: facts.pipelines,
    status,
    runId,
    tick: tick.toISOString(),
    startedAt: '2026-01-01T02:00:00.000Z',
    endedAt: '2026-01-01T02:00:01.530Z',
    durationMs: 1530,
    host: 'db1',
    pid: 1,
    tags: [],
    ...(error ? { error } : {}),
    steps: [],
  },
  previousStatus: async () => more.previous,
})

test('the emitter: listeners in subscription order, emit waits for their promises, a throwing listener is reported and the others still run', async () => {
  const errors: [string, string][] = []
  const events = new TypedEmitter<{ ping: { n: number } }>((error, event) =>
    errors.push([String(event), (error as Error).message]),
  )
  const seen: string[] = []
  let release = () => {}
  events.on('ping', ({ n }) => seen.push(`a${n}`))
  events.on('ping', () => {
    throw new Error('b broke')
  })
  events.on(
    'ping',
    ({ n }) =>
      new Promise<void>((resolve) => {
        release = () => {
          seen.push(`c${n}`)
          resolve()
        }
      }),
  )
  const off = events.on('ping', async () => {
    throw new Error('d rejected')
  })
  let settled = false
  const emitted = events.emit('ping', { n: 1 }).then(() => {
    settled = true
  })
  assert.equal(seen, ['a1'], 'synchronous listeners ran before emit returned')
  await new Promise((resolve) => setImmediate(resolve))
  assert.is(settled, false, 'emit waits for the pending listener')
  release()
  await emitted
  assert.equal(seen, ['a1', 'c1'])
  assert.equal(errors, [
    ['ping', 'b broke'],
    ['ping', 'd rejected'],
  ])
  off()
  errors.length = 0
  const again = events.emit('ping', { n: 2 })
  release()
  await again
  assert.equal(errors, [['ping', 'b broke']], 'the unsubscribed listener no longer runs')
})

test('a listener error becomes watch:internal-error, logged as before', async () => {
  const lines: string[] = []
  const events = createWatchEvents()
  logWatcherEvents(
    events,
    createEventLog({ json: true, secrets: () => [], write: (l) => lines.push(l) }),
  )
  events.on('watch:stopped', () => {
    throw new Error('a subscriber broke')
  })
  await events.emit('watch:stopped', {})
  const [stopped, internal] = lines.map((l) => JSON.parse(l))
  assert.is(stopped.event, 'watch.stopped')
  assert.equal(
    { level: internal.level, event: internal.event, message: internal.message },
    {
      level: 'error',
      event: 'watch.internal-error',
      message: 'internal error in the watcher: a subscriber broke',
    },
  )
})

test('the log subscribers write the same lines as the watcher always did', async () => {
  const lines: string[] = []
  const write = (line: string) => lines.push(line)
  const events = createWatchEvents()
  const log = createEventLog({ json: true, secrets: () => [], write, level: 'debug' })
  logWatcherEvents(events, log)
  logRunEvents(events, log)
  const planned = {
    name: 'nightly',
    config: scheduleSchema.parse({ cron: '0 2 * * *', run: ['backup', 'health'], timezone: 'UTC' }),
    next: tick,
  }
  const notifier = quietNotifier()
  await events.emit('watch:started', {
    watcher: 'db1:1:abc',
    database: 'app@db:5432/app',
    metricsPort: 9464,
    schedules: [planned],
  })
  await events.emit('tick:due', { schedule: planned, fire: tick, missed: 0 })
  await events.emit('tick:due', { schedule: planned, fire: tick, missed: 3 })
  await events.emit('tick:outcome', { ...facts, outcome: 'ran' })
  await events.emit('tick:outcome', { ...facts, outcome: 'claimed-elsewhere' })
  await events.emit('tick:outcome', {
    ...facts,
    outcome: 'skipped-overlap',
    behind,
    overlap: 'skip',
  })
  await events.emit('tick:outcome', { ...facts, outcome: 'queued', behind })
  await events.emit('tick:outcome', {
    ...facts,
    outcome: 'missed',
    error: new Error('ECONNREFUSED'),
  })
  await events.emit('run:dequeued', facts)
  await events.emit('run:started', { ...facts, notifier, ping: undefined })
  await events.emit('run:finished', finished('success', undefined))
  await events.emit('run:finished', finished('aborted', 't:dump: aborted: stopped'))
  await events.emit('run:finished', finished('failed', 't:dump: disk full'))
  await events.emit('run:lost', { run: lost, notifier, ping: undefined })
  await events.emit('db:changed', { up: true, was: undefined, error: undefined, database: 'd' })
  await events.emit('db:changed', { up: false, was: true, error: new Error('down'), database: 'd' })
  await events.emit('db:changed', {
    up: true,
    was: false,
    error: undefined,
    database: 'app@db/app',
  })
  await events.emit('config:reloaded', {
    ...{ added: [], removed: ['nightly'], changed: [] },
    schedules: [],
    inFlight: 1,
  })
  await events.emit('watch:stopping', {
    signal: 'SIGTERM',
    running: [{ schedule: 'nightly' }],
    timeoutMs: 30_000,
  })
  const got = lines.map((line) => {
    const { time, ...rest } = JSON.parse(line)
    assert.ok(Date.parse(time) > 0)
    return rest
  })
  const at = tick.toISOString()
  const run = { schedule: 'nightly', tick: at, runId, pipelines: ['backup', 'health'] }
  const ended = { event: 'run.finished', ...run, durationMs: 1530 }
  assert.equal(got, [
    {
      level: 'info',
      event: 'watch.started',
      message: 'watching 1 schedule against app@db:5432/app as db1:1:abc; metrics on :9464/metrics',
      watcher: 'db1:1:abc',
      database: 'app@db:5432/app',
      metricsPort: 9464,
      schedules: [{ name: 'nightly', cron: '0 2 * * *', timezone: 'UTC', next: at }],
    },
    {
      level: 'info',
      event: 'schedule.next',
      message: `  nightly: 0 2 * * * (UTC) -> backup, health; next ${at}`,
      schedule: 'nightly',
      next: at,
    },
    {
      level: 'warn',
      event: 'tick.coalesced',
      message: `nightly: 3 tick(s) passed while the watcher could not run (clock jump or suspended process); running only the latest, ${at}`,
      schedule: 'nightly',
      passed: 3,
    },
    {
      level: 'debug',
      event: 'tick.claimed-elsewhere',
      message: `nightly: tick ${at} was claimed by another watcher`,
      schedule: 'nightly',
      tick: at,
    },
    {
      level: 'warn',
      event: 'tick.skipped',
      message: `nightly: tick ${at} skipped: the previous run is still running (since 2026-01-01T01:59:00.000Z on db2:42); overlap: skip`,
      schedule: 'nightly',
      tick: at,
      behind: 'run-before',
    },
    {
      level: 'info',
      event: 'tick.queued',
      message: `nightly: tick ${at} queued behind the run on db2:42`,
      schedule: 'nightly',
      tick: at,
      runId,
    },
    {
      level: 'warn',
      event: 'tick.missed',
      message: `nightly: tick ${at} missed: it could not be claimed in the database (ECONNREFUSED)`,
      schedule: 'nightly',
      tick: at,
      error: 'ECONNREFUSED',
    },
    {
      level: 'info',
      event: 'run.dequeued',
      message: `nightly: the queued run of tick ${at} starts`,
      schedule: 'nightly',
      runId,
    },
    {
      level: 'info',
      event: 'run.started',
      message: `nightly: run 12345678 of backup, health started (tick ${at})`,
      ...run,
    },
    {
      level: 'info',
      message: 'nightly: run 12345678 succeeded in 1.5s',
      ...ended,
      status: 'success',
    },
    {
      level: 'warn',
      message: 'nightly: run 12345678 aborted after 1.5s: t:dump: aborted: stopped',
      ...ended,
      status: 'aborted',
      error: 't:dump: aborted: stopped',
    },
    {
      level: 'error',
      message: 'nightly: run 12345678 FAILED after 1.5s: t:dump: disk full',
      ...ended,
      status: 'failed',
      error: 't:dump: disk full',
    },
    {
      level: 'warn',
      event: 'run.lost',
      message: `nightly: run abcdef01 (tick ${at}) on db3:7 is lost: its watcher stopped renewing the lease`,
      schedule: 'nightly',
      runId: lost.id,
      host: 'db3',
      pid: 7,
    },
    {
      level: 'error',
      event: 'db.down',
      message:
        "the database is unreachable: down; ticks will be retried until each schedule's next one",
      error: 'down',
    },
    {
      level: 'info',
      event: 'db.up',
      message: 'the database is reachable again (app@db/app)',
    },
    {
      level: 'info',
      event: 'config.reloaded',
      message:
        'config reloaded: 0 schedules (added: none; removed: nightly; changed: none); 1 run(s) in flight continue',
      added: [],
      removed: ['nightly'],
      changed: [],
    },
    {
      level: 'warn',
      event: 'config.no-schedules',
      message:
        'the reloaded config has no schedules: the watcher idles until the next reload or stop',
    },
    {
      level: 'info',
      event: 'watch.stopping',
      message: 'SIGTERM: stopping; waiting up to 30s for 1 running run(s) (nightly)',
      signal: 'SIGTERM',
      running: 1,
    },
  ])

  // For a person: a timestamped sentence, the level named unless it is info.
  const text: string[] = []
  const people = createWatchEvents()
  logRunEvents(
    people,
    createEventLog({ json: false, secrets: () => [], write: (l) => text.push(l) }),
  )
  await people.emit('run:finished', finished('failed', 't:dump: disk full'))
  await people.emit('run:started', { ...facts, notifier, ping: undefined })
  assert.match(
    text[0]!,
    /^\d{4}-\d\d-\d\dT[\d:.]+Z ERROR nightly: run 12345678 FAILED after 1\.5s: t:dump: disk full$/,
  )
  assert.match(
    text[1]!,
    /^\d{4}-\d\d-\d\dT[\d:.]+Z nightly: run 12345678 of backup, health started/,
  )
})

test('the metrics subscriber: tick outcomes, run counts and durations (not for a run aborted before it started), lost runs, database state, deliveries', async () => {
  const stats = {
    total: 1,
    idle: 1,
    waiting: 0,
    max: 4,
    queries: 0,
    errors: 0,
    totalQueryMs: 0,
    slowestQueryMs: 0,
  }
  const metrics = await createWatchMetrics(() => stats)
  const events = createWatchEvents()
  recordMetrics(events, metrics)
  const planned = {
    name: 'nightly',
    config: scheduleSchema.parse({ cron: '0 2 * * *', run: 'p' }),
    next: tick,
  }
  const notifier = quietNotifier()
  await events.emit('watch:started', {
    watcher: 'w',
    database: 'd',
    metricsPort: 1,
    schedules: [planned],
  })
  await events.emit('tick:outcome', { ...facts, outcome: 'missed', error: new Error('x') })
  await events.emit('tick:outcome', { ...facts, outcome: 'ran' })
  await events.emit('run:started', { ...facts, notifier, ping: undefined })
  const withBytes = finished('success', undefined)
  withBytes.report.steps = [
    { ...failedStep, status: 'success', error: undefined, result: { bytes: 2048 } },
  ]
  await events.emit('run:finished', withBytes)
  await events.emit('run:finished', { ...finished('aborted', 'stopped'), started: false })
  await events.emit('run:lost', { run: lost, notifier, ping: undefined })
  await events.emit('db:changed', { up: false, was: true, error: new Error('x'), database: 'd' })
  await events.emit('notify:delivery', {
    endpoint: 'https://hooks.example',
    kind: 'webhook',
    ok: false,
  })
  const { body } = await metrics.render()
  const value = (pattern: string) => {
    const line = body.split('\n').find((l) => l.startsWith(`${pattern} `))
    return line === undefined ? undefined : Number(line.slice(pattern.length + 1))
  }
  const sp = 'schedule="nightly",pipeline="backup,health"'
  assert.is(
    value(`dbops_schedule_next_tick_timestamp_seconds{schedule="nightly"}`),
    tick.getTime() / 1000,
  )
  assert.is(value(`dbops_schedule_ticks_total{schedule="nightly",outcome="missed"}`), 1)
  assert.is(value(`dbops_schedule_ticks_total{schedule="nightly",outcome="ran"}`), 1)
  assert.is(value(`dbops_schedule_runs_total{${sp},status="success"}`), 1)
  assert.is(value(`dbops_schedule_runs_total{${sp},status="aborted"}`), undefined)
  assert.is(value(`dbops_schedule_running{${sp}}`), 0)
  assert.is(value(`dbops_schedule_last_duration_seconds{${sp}}`), 1.53)
  assert.is(value(`dbops_task_bytes{schedule="nightly",task="t:dump"}`), 2048)
  assert.is(
    value(`dbops_schedule_runs_total{schedule="nightly",pipeline="backup",status="lost"}`),
    1,
  )
  assert.is(value(`dbops_schedule_failures_total{schedule="nightly",pipeline="backup"}`), 1)
  assert.is(value('dbops_watcher_database_up'), 0)
  assert.is(
    value(
      `dbops_notify_deliveries_total{endpoint="https://hooks.example",kind="webhook",outcome="failed"}`,
    ),
    1,
  )
})

test('webhooks and pings: start ping, recovery once the previous outcome is known, /fail on a failure and on a lost run', async () => {
  const receiver = await startReceiver()
  try {
    const notifier = createNotifier({
      targets: [notifySchema.parse({ webhook: receiver.url('/hook/TOKEN') })],
      logger: createEventLog({ json: true, secrets: () => [], write: () => {} }),
      retryDelaysMs: [],
    })
    const events = createWatchEvents()
    sendWebhooks(events)
    sendPings(events)
    const ping = receiver.url('/ping/TOKEN')
    await events.emit('run:started', { ...facts, notifier, ping })
    let previousAsked = 0
    let answer: (status: string) => void = () => {}
    const recovered = finished('success', undefined, { notifier, ping })
    recovered.previousStatus = () => {
      previousAsked++
      return new Promise((resolve) => {
        answer = resolve
      })
    }
    let handedOver = false
    const emitted = events.emit('run:finished', recovered).then(() => {
      handedOver = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.is(handedOver, false, 'the run waits until its webhook knows the previous outcome')
    answer('failed')
    await emitted
    await events.emit('run:finished', finished('failed', 't:dump: disk full', { notifier, ping }))
    await events.emit('run:lost', { run: lost, notifier, ping })
    await notifier.flush(5000)
    assert.is(previousAsked, 1)
    const got = receiver.received.map((r) =>
      r.path === '/hook/TOKEN' ? `${r.path} ${r.body.event} ${r.body.run.status}` : r.path,
    )
    assert.equal(got.filter((p) => p.startsWith('/ping')).sort(), [
      '/ping/TOKEN',
      '/ping/TOKEN/fail',
      '/ping/TOKEN/fail',
      '/ping/TOKEN/start',
    ])
    assert.equal(got.filter((p) => p.startsWith('/hook')).sort(), [
      '/hook/TOKEN failure failed',
      '/hook/TOKEN failure lost',
      '/hook/TOKEN recovery success',
    ])
  } finally {
    await receiver.close()
  }
})

test.run()
