// Claim-with-retry and the loaded config's life, in-process against the real test PostgreSQL
// (and a port nothing listens on, for a database that is down). Time for the deadline comes
// from a clock the test holds still, so the number of attempts does not depend on speed.
import { randomUUID } from 'node:crypto'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, makeWorkdir, type TestDatabase } from '@dbops/test-utils'
import { connectionSchema, poolSchema } from '../src/config/schema.ts'
import { Db } from '../src/db/db.ts'
import type { ActiveRun } from '../src/scheduler/claim.ts'
import { type ClaimResult, claimWithRetry, tickOutcomeOf } from '../src/scheduler/claim-retry.ts'
import { createEventLog } from '../src/scheduler/event-log.ts'
import { loadForWatch } from '../src/scheduler/loaded-config.ts'
import { until } from './watch-helpers.ts'

let db: TestDatabase
const pools: Db[] = []
const pool = (url: string) => {
  const p = new Db(connectionSchema.parse({ url }), poolSchema.parse({ max: 2 }))
  pools.push(p)
  return p
}
const me = { id: 'host:1:abc', host: 'host', pid: 1 }
const claim = (schedule: string) => ({
  schedule,
  tick: new Date('2026-01-01T00:00:00Z'),
  pipelines: ['p'],
  tags: [],
  overlap: 'skip' as const,
  runId: randomUUID(),
  leaseMs: 60_000,
})

test.before(async () => {
  db = await createTestDatabase('scheduler_claim_retry')
})
test.after(async () => {
  await Promise.all(pools.map((p) => p.close()))
  await db.drop()
})

test('a reachable database: the first attempt claims, and the state is recorded as up', async () => {
  const recorded: unknown[] = []
  const result = await claimWithRetry(pool(db.url), claim('up'), me, {
    deadline: Date.now() + 60_000,
    signal: new AbortController().signal,
    record: (error) => recorded.push(error),
  })
  assert.is(result.kind, 'run')
  assert.equal(recorded, [undefined])
})

test('a database that stays down: retried with backoff until the next wait would pass the deadline, then missed', async () => {
  const down = pool('postgres://nobody@127.0.0.1:1/none')
  const recorded: unknown[] = []
  // The clock stands still at 0: the waits of 250 and 500 ms fit before the deadline of
  // 800, the next one (1000) does not, so exactly three attempts.
  const result = await claimWithRetry(down, claim('down'), me, {
    deadline: 800,
    signal: new AbortController().signal,
    record: (error) => recorded.push(error),
    now: () => 0,
  })
  assert.is(result.kind, 'missed')
  assert.is(recorded.length, 3)
  assert.ok(recorded.every((e) => e instanceof Error))
  assert.match(String((result as { error: Error }).error.message), /127\.0\.0\.1:1/)
})

test('a stop ends the retrying at once: missed after the attempt in progress, no wait', async () => {
  const down = pool('postgres://nobody@127.0.0.1:1/none')
  const stop = new AbortController()
  stop.abort()
  let attempts = 0
  const result = await claimWithRetry(down, claim('stopped'), me, {
    deadline: Number.POSITIVE_INFINITY,
    signal: stop.signal,
    record: () => attempts++,
  })
  assert.is(result.kind, 'missed')
  assert.is(attempts, 1)
})

test('each claim result becomes the tick outcome the log and metrics know', () => {
  const behind: ActiveRun = {
    id: 'b',
    status: 'running',
    host: 'h',
    pid: 2,
    started_at: null,
    queued_at: new Date(0),
  }
  const at = { schedule: 's', tick: new Date(0), runId: 'r', overlap: 'queue' }
  const cases: [ClaimResult, Record<string, unknown>][] = [
    [
      { kind: 'run', runId: 'r', lost: [] },
      { outcome: 'ran', runId: 'r' },
    ],
    [
      { kind: 'queued', runId: 'r', lost: [], behind },
      { outcome: 'queued', runId: 'r', behind },
    ],
    [{ kind: 'claimed-elsewhere', lost: [] }, { outcome: 'claimed-elsewhere' }],
    [
      { kind: 'busy', lost: [], behind },
      { outcome: 'skipped-overlap', behind, overlap: 'queue' },
    ],
    [
      { kind: 'missed', error: 'E' },
      { outcome: 'missed', error: 'E' },
    ],
  ]
  for (const [result, expected] of cases)
    assert.equal(tickOutcomeOf(result, at), { schedule: 's', tick: at.tick, ...expected })
})

test('a retired config stays open while a tick uses it, and closes when the last one ends', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': `export default {
  connection: { url: ${JSON.stringify(db.url)} },
  pipelines: { p: ['retention:apply'] },
  schedules: { s: { cron: '0 2 * * *', run: 'p' } },
}
`,
  })
  try {
    const log = createEventLog({ json: true, secrets: () => [], write: () => {} })
    const loaded = await loadForWatch({ cwd: work.dir, json: true, log })
    const open = () => loaded.schedulerDb.stats().total > 0
    let finish: (() => void) | undefined
    const tick = loaded.use(async () => {
      await loaded.schedulerDb.query('select 1')
      await new Promise<void>((resolve) => {
        finish = resolve
      })
    })
    await until(() => finish !== undefined, 5000, 'the tick to query')
    loaded.retire()
    await new Promise((resolve) => setImmediate(resolve))
    assert.ok(open(), 'still in use: not closed')
    finish!()
    await tick
    await until(() => !open(), 5000, 'the retired config to close')

    const idle = await loadForWatch({ cwd: work.dir, json: true, log })
    await idle.schedulerDb.query('select 1')
    idle.retire()
    await until(() => idle.schedulerDb.stats().total === 0, 5000, 'an unused config to close')
    await idle.close()
  } finally {
    await work.remove()
  }
})

test.run()
