// The claim SQL on its own, many claimers at once: exactly one wins a tick, a schedule never
// runs over itself across watchers, expired leases become lost runs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import { Db } from '../src/db/db.ts'
import {
  claimTick,
  finishRun,
  markLost,
  previousOutcome,
  renewLeases,
  startQueued,
  type WatcherIdentity,
} from '../src/scheduler/claim.ts'
import { recentRuns } from '../src/scheduler/history.ts'
import { connectionSchema, poolSchema } from '../src/config/schema.ts'
import { randomUUID } from 'node:crypto'

let db: TestDatabase
const pools: Db[] = []
const watcher = (n: number): { db: Db; me: WatcherIdentity } => {
  const pool = new Db(connectionSchema.parse({ url: db.url }), poolSchema.parse({ max: 2 }))
  pools.push(pool)
  return { db: pool, me: { id: `host-${n}:${1000 + n}:abc`, host: `host-${n}`, pid: 1000 + n } }
}
const claim = (
  w: { db: Db; me: WatcherIdentity },
  schedule: string,
  tick: Date,
  overlap: 'skip' | 'queue' = 'skip',
  leaseMs = 60_000,
) =>
  claimTick(
    w.db,
    { schedule, tick, pipelines: ['p'], tags: ['t'], overlap, runId: randomUUID(), leaseMs },
    w.me,
  )

test.before(async () => {
  db = await createTestDatabase('scheduler_claim')
})
test.after(async () => {
  await Promise.all(pools.map((p) => p.close()))
  await db.drop()
})

test('twenty watchers claim the same ticks at once: exactly one wins each, the schema is created once', async () => {
  const watchers = Array.from({ length: 20 }, (_, i) => watcher(i))
  for (let second = 0; second < 5; second++) {
    const tick = new Date(Date.UTC(2026, 0, 1, 0, 0, second))
    const outcomes = await Promise.all(watchers.map((w) => claim(w, `s${second}`, tick)))
    assert.is(outcomes.filter((o) => o.kind === 'run').length, 1, `tick ${second}`)
    assert.is(outcomes.filter((o) => o.kind === 'claimed-elsewhere').length, 19)
  }
  const { rows } = await db.query<{ n: number }>(`select count(*)::int as n from dbops.runs`)
  assert.is(rows[0]!.n, 5)
})

test('overlap across watchers: skip while running; queue holds one; a queued run starts when the running one ends', async () => {
  const [a, b, c] = [watcher(31), watcher(32), watcher(33)]
  const t = (s: number) => new Date(Date.UTC(2026, 0, 2, 0, 0, s))
  const first = await claim(a, 'skipper', t(0))
  assert.is(first.kind, 'run')
  const second = await claim(b, 'skipper', t(1))
  assert.is(second.kind, 'busy')
  if (second.kind === 'busy') assert.is(second.behind.host, 'host-31')

  const running = await claim(a, 'queuer', t(0), 'queue')
  const queued = await claim(b, 'queuer', t(1), 'queue')
  const full = await claim(c, 'queuer', t(2), 'queue')
  assert.is(running.kind, 'run')
  assert.is(queued.kind, 'queued')
  assert.is(full.kind, 'busy') // the queue holds one
  if (queued.kind !== 'queued' || running.kind !== 'run') return
  assert.is(await startQueued(b.db, 'queuer', queued.runId, 60_000), false)
  await finishRun(a.db, running.runId, 'failed', 'boom')
  assert.is(await startQueued(b.db, 'queuer', queued.runId, 60_000), true)
  await finishRun(b.db, queued.runId, 'success', undefined)
  assert.is(await previousOutcome(b.db, 'queuer', randomUUID()), 'success')
  assert.is(await previousOutcome(b.db, 'queuer', queued.runId), 'failed') // what a recovery is measured against
})

test('a run whose lease expired is lost: found by the next claim or a sweep, shown as lost, and the schedule runs again', async () => {
  const [a, b] = [watcher(41), watcher(42)]
  const t = (s: number) => new Date(Date.UTC(2026, 0, 3, 0, 0, s))
  const dead = await claim(a, 'leased', t(0), 'skip', 300)
  assert.is(dead.kind, 'run')
  const alive = await claim(a, 'renewed', t(0), 'skip', 300)
  if (alive.kind === 'run') await renewLeases(a.db, [alive.runId], 60_000)
  // Wait for the 300 ms lease to run out (however slow the machine), not for a fixed time.
  const leasedStatus = async () =>
    (await recentRuns(b.db, { schedule: 'leased', limit: 5 }))[0]!.status
  for (
    const deadline = Date.now() + 15_000;
    (await leasedStatus()) !== 'lost' && Date.now() < deadline;
  )
    await new Promise((r) => setTimeout(r, 50))
  assert.is(await leasedStatus(), 'lost') // expired, not yet marked: read as lost
  const next = await claim(b, 'leased', t(1))
  assert.is(next.kind, 'run')
  assert.is(next.lost.length, 1)
  assert.is(next.lost[0]!.host, 'host-41')
  assert.match(next.lost[0]!.error, /stopped renewing its lease/)
  assert.equal(await markLost(b.db), []) // the renewed one is alive; the lost one is marked once
  const renewed = await recentRuns(b.db, { schedule: 'renewed', limit: 5 })
  assert.is(renewed[0]!.status, 'running')
})

test.run()
