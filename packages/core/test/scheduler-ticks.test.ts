import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { dueTick, latestTick, nextTick } from '../src/scheduler/next-tick.ts'
import { makeWorkdir, runCli } from '@dbops/test-utils'
import { configSource, TEST_PLUGIN } from './watch-helpers.ts'

const iso = (d: Date | undefined) => d?.toISOString()
const ticks = (cron: string, tz: string | undefined, from: string, n: number) => {
  const out: string[] = []
  let at = new Date(from)
  for (let i = 0; i < n; i++) {
    at = nextTick(cron, tz, at)
    out.push(iso(at)!)
  }
  return out
}

test('six-field cron ticks every second; the next tick is strictly after now', () => {
  assert.equal(ticks('* * * * * *', undefined, '2026-01-01T00:00:00.000Z', 3), [
    '2026-01-01T00:00:01.000Z',
    '2026-01-01T00:00:02.000Z',
    '2026-01-01T00:00:03.000Z',
  ])
  assert.is(
    iso(nextTick('*/15 * * * * *', 'UTC', new Date('2026-01-01T00:00:14.999Z'))),
    '2026-01-01T00:00:15.000Z',
  )
  assert.is(
    iso(latestTick('* * * * * *', 'UTC', new Date('2026-01-01T00:00:05.000Z'))),
    '2026-01-01T00:00:05.000Z',
  )
  assert.is(
    iso(latestTick('* * * * * *', 'UTC', new Date('2026-01-01T00:00:05.700Z'))),
    '2026-01-01T00:00:05.000Z',
  )
})

test('DST: a daily 02:30 in Berlin runs once on the spring-forward day (at 03:30) and once on the fall-back day', () => {
  // 2026-03-29: 02:00 CET -> 03:00 CEST, so 02:30 does not exist that day.
  assert.equal(ticks('30 2 * * *', 'Europe/Berlin', '2026-03-27T12:00:00Z', 3), [
    '2026-03-28T01:30:00.000Z',
    '2026-03-29T01:30:00.000Z',
    '2026-03-30T00:30:00.000Z',
  ])
  // 2026-10-25: 03:00 CEST -> 02:00 CET, so 02:30 happens twice; it runs once.
  const fall = ticks('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 3)
  assert.equal(fall, [
    '2026-10-25T00:30:00.000Z',
    '2026-10-26T01:30:00.000Z',
    '2026-10-27T01:30:00.000Z',
  ])
  // Every 30 minutes keeps real 30-minute steps through the repeated hour.
  const steps = ticks('*/30 * * * *', 'Europe/Berlin', '2026-10-25T00:10:00Z', 5).map((t) =>
    Date.parse(t),
  )
  for (let i = 1; i < steps.length; i++) assert.is(steps[i]! - steps[i - 1]!, 30 * 60_000)
  // New York, 2 AM on the spring-forward Sunday: 03:00 EDT.
  assert.is(
    iso(nextTick('0 2 * * *', 'America/New_York', new Date('2026-03-07T12:00:00Z'))),
    '2026-03-08T07:00:00.000Z',
  )
})

test('waking: early wake does nothing, on time fires that tick, after a clock jump only the latest due tick fires', () => {
  const due = new Date('2026-01-01T00:00:10.000Z')
  assert.is(dueTick('* * * * * *', 'UTC', due, new Date('2026-01-01T00:00:09.990Z')), undefined)
  const onTime = dueTick('* * * * * *', 'UTC', due, new Date('2026-01-01T00:00:10.004Z'))!
  assert.is(iso(onTime.fire), '2026-01-01T00:00:10.000Z')
  assert.is(onTime.missed, 0)
  assert.is(iso(onTime.next), '2026-01-01T00:00:11.000Z')
  const jumped = dueTick('* * * * * *', 'UTC', due, new Date('2026-01-01T00:00:15.500Z'))!
  assert.is(iso(jumped.fire), '2026-01-01T00:00:15.000Z')
  assert.is(jumped.missed, 5) // 10..14 passed over; 15, the latest, runs
  assert.is(iso(jumped.next), '2026-01-01T00:00:16.000Z')
  const hourly = dueTick(
    '0 * * * *',
    'UTC',
    new Date('2026-01-01T01:00:00Z'),
    new Date('2026-01-01T04:20:00Z'),
  )!
  assert.is(iso(hourly.fire), '2026-01-01T04:00:00.000Z')
  assert.is(iso(hourly.next), '2026-01-01T05:00:00.000Z')
})

test('dbops watch refuses a bad schedule, no schedules and bad flags with exit 2 and a sentence', async () => {
  const work = await makeWorkdir({ 'test-plugin.ts': TEST_PLUGIN })
  try {
    await work.write(
      'dbops.config.ts',
      configSource(
        `schedules: { nightly: { cron: '0 25 * * *', run: 'insert' }, berlin: { cron: '0 2 * * *', run: 'insert', timezone: 'Mars/Olympus' } },`,
      ),
    )
    const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' }
    const bad = await runCli(['watch'], { cwd: work.dir, env })
    assert.is(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /schedules\.nightly\.cron: invalid cron expression '0 25 \* \* \*'/)
    assert.match(bad.stderr, /schedules\.berlin\.timezone: unknown time zone 'Mars\/Olympus'/)

    await work.write('dbops.config.ts', configSource(''))
    const none = await runCli(['watch'], { cwd: work.dir, env })
    assert.is(none.code, 2, none.stderr)
    assert.match(none.stderr, /the config has no schedules/)

    await work.write(
      'dbops.config.ts',
      configSource(`schedules: { s: { cron: '* * * * * *', run: 'insert' } },`),
    )
    const taken = await import('node:net').then(
      (net) =>
        new Promise<import('node:net').Server>((resolve) => {
          const srv = net.createServer().listen(0, () => resolve(srv))
        }),
    )
    const takenPort = (taken.address() as { port: number }).port
    for (const [args, message] of [
      [['--metrics-port', String(takenPort)], /cannot serve metrics: listen EADDRINUSE/],
      [['--metrics-port', 'http'], /--metrics-port must be a whole number/],
      [['--shutdown-timeout', 'soon'], /--shutdown-timeout: 'soon' is not a duration/],
      [['--lease', '10ms'], /--lease must be at least 1s/],
      [['--log-format', 'xml'], /--log-format must be json or text/],
      [['backup'], /dbops watch takes no arguments/],
    ] as const) {
      const r = await runCli(['watch', ...args], { cwd: work.dir, env })
      assert.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, message)
    }
    taken.close()
  } finally {
    await work.remove()
  }
})

test.run()
