// The tick planner in-process, on a clock the test moves by hand: what each schedule waits
// for, how long the watcher sleeps, what is due on waking (and coalesced after a jump), what a
// reload keeps, what is caught up at start, claim deadlines, jitter and /healthz's overdue.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { type ScheduleConfig, scheduleSchema } from '../src/config/schema.ts'
import {
  claimDeadline,
  jitterDelayMs,
  missedWhileAway,
  TickPlanner,
} from '../src/scheduler/tick-planner.ts'

function fakeClock(iso: string) {
  let now = Date.parse(iso)
  return {
    now: () => now,
    set: (to: string) => {
      now = Date.parse(to)
    },
  }
}

const schedule = (cron: string, more: Partial<ScheduleConfig> = {}): ScheduleConfig =>
  scheduleSchema.parse({ cron, run: 'p', timezone: 'UTC', ...more })
const iso = (d: Date) => d.toISOString()
const nextOf = (planner: TickPlanner) =>
  Object.fromEntries(planner.all().map((s) => [s.name, iso(s.next)]))

test('a planned schedule waits for its first tick after now; the watcher sleeps until the earliest, at most a minute', () => {
  const clock = fakeClock('2026-01-01T00:00:00.250Z')
  const planner = new TickPlanner(clock)
  assert.is(planner.sleepMs(), 60_000, 'no schedules: a minute (the timer keeps the process alive)')
  planner.replace({
    seconds: schedule('*/10 * * * * *'),
    hourly: schedule('0 * * * *'),
  })
  assert.equal(nextOf(planner), {
    seconds: '2026-01-01T00:00:10.000Z',
    hourly: '2026-01-01T01:00:00.000Z',
  })
  assert.is(planner.sleepMs(), 9750)
  planner.replace({ hourly: schedule('0 * * * *') })
  assert.is(planner.sleepMs(), 60_000, 'an hour away: wake after a minute to re-read the clock')
  clock.set('2026-01-01T01:00:05Z')
  assert.is(planner.sleepMs(), 0, 'overdue: wake at once')
})

test('waking: early does nothing, on time fires that tick, after a clock jump only the latest fires and the rest are counted', () => {
  const clock = fakeClock('2026-01-01T00:00:00.500Z')
  const planner = new TickPlanner(clock)
  planner.replace({ every: schedule('* * * * * *'), minute: schedule('0 * * * * *') })

  clock.set('2026-01-01T00:00:00.900Z')
  assert.equal(planner.wake(), [])
  assert.is(iso(planner.lastWake), '2026-01-01T00:00:00.900Z')

  clock.set('2026-01-01T00:00:01.003Z')
  const onTime = planner.wake()
  assert.equal(
    onTime.map((d) => [d.schedule.name, iso(d.fire), d.missed]),
    [['every', '2026-01-01T00:00:01.000Z', 0]],
  )
  assert.is(iso(planner.get('every')!.next), '2026-01-01T00:00:02.000Z')

  // Suspended for 75 s: each schedule fires once, at its latest due tick.
  clock.set('2026-01-01T00:01:16.200Z')
  const jumped = planner.wake()
  assert.equal(
    jumped.map((d) => [d.schedule.name, iso(d.fire), d.missed]),
    [
      ['every', '2026-01-01T00:01:16.000Z', 74], // 00:02 .. 01:15 passed over
      ['minute', '2026-01-01T00:01:00.000Z', 0],
    ],
  )
  assert.equal(nextOf(planner), {
    every: '2026-01-01T00:01:17.000Z',
    minute: '2026-01-01T00:02:00.000Z',
  })
  assert.equal(planner.wake(), [], 'nothing is due twice')
})

test('a reload keeps the pending tick of a schedule whose cron and time zone stayed, replans the others and says what changed', () => {
  const clock = fakeClock('2026-01-01T00:00:00Z')
  const planner = new TickPlanner(clock)
  planner.replace({
    kept: schedule('0 2 * * *'),
    retagged: schedule('0 3 * * *'),
    recron: schedule('0 4 * * *'),
    rezoned: schedule('0 5 * * *'),
    dropped: schedule('0 6 * * *'),
  })
  clock.set('2026-01-01T12:00:00Z') // the 02:00..06:00 ticks have not been woken for yet
  const changes = planner.replace({
    kept: schedule('0 2 * * *'),
    retagged: schedule('0 3 * * *', { tags: ['new'] }),
    recron: schedule('30 4 * * *'),
    rezoned: schedule('0 5 * * *', { timezone: 'Europe/Berlin' }),
    added: schedule('0 7 * * *'),
  })
  assert.equal(changes, {
    added: ['added'],
    removed: ['dropped'],
    changed: ['retagged', 'recron', 'rezoned'],
  })
  assert.equal(nextOf(planner), {
    kept: '2026-01-01T02:00:00.000Z', // still due: the reload must not skip it
    retagged: '2026-01-01T03:00:00.000Z',
    recron: '2026-01-02T04:30:00.000Z',
    rezoned: '2026-01-02T04:00:00.000Z', // 05:00 in Berlin
    added: '2026-01-02T07:00:00.000Z',
  })
  assert.is(planner.size, 5)
  assert.is(planner.get('dropped'), undefined)
})

test("catch-up: 'latest' schedules offer their latest tick; it runs only when later than the last claimed one", () => {
  const clock = fakeClock('2026-03-10T09:30:00Z')
  const planner = new TickPlanner(clock)
  planner.replace({
    daily: schedule('0 2 * * *', { catchUp: 'latest' }),
    none: schedule('0 2 * * *'),
  })
  const candidates = planner.catchUpCandidates()
  assert.equal(
    candidates.map((c) => [c.schedule.name, iso(c.latest)]),
    [['daily', '2026-03-10T02:00:00.000Z']],
  )
  const latest = candidates[0]!.latest
  assert.ok(missedWhileAway(latest, new Date('2026-03-08T02:00:00Z')), 'missed two days')
  assert.not.ok(missedWhileAway(latest, latest), 'that tick was claimed already')
  assert.not.ok(missedWhileAway(latest, undefined), 'never ran: nothing to catch up')
})

test('a claim may be retried until the following tick, at least a second; jitter stays below jitterMs; /healthz counts a tick over a minute late as overdue', () => {
  const clock = fakeClock('2026-01-01T00:00:00Z')
  const planner = new TickPlanner(clock)
  planner.replace({ hourly: schedule('0 * * * *'), seconds: schedule('* * * * * *') })
  const hourly = planner.get('hourly')!
  const tick = new Date('2026-01-01T00:00:00Z')
  assert.is(claimDeadline(hourly, tick), Date.parse('2026-01-01T01:00:00Z'))
  const seconds = planner.get('seconds')!
  seconds.next = new Date('2026-01-01T00:00:00.200Z')
  assert.is(claimDeadline(seconds, tick), Date.parse('2026-01-01T00:00:01Z'))

  assert.is(
    jitterDelayMs(0, () => 0.99),
    0,
  )
  assert.is(
    jitterDelayMs(1000, () => 0),
    0,
  )
  assert.is(
    jitterDelayMs(1000, () => 0.9999),
    999,
  )

  clock.set('2026-01-01T00:01:00.500Z') // seconds' tick is 60.3 s late; hourly is not due
  assert.equal(planner.overdue(), ['seconds'])
  planner.wake()
  assert.equal(planner.overdue(), [])
})

test.run()
