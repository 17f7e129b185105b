import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import {
  sleepMs,
  spawnWatch,
  watchProject,
  type WatchProcess,
  resetDatabase,
} from './watch-helpers.ts'

let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('watch_ha')
})
test.after(async () => {
  await db.drop()
})

async function stopAll(watchers: WatchProcess[]) {
  for (const w of watchers) w.kill('SIGTERM')
  const exits = await Promise.all(watchers.map((w) => w.exited))
  for (const [i, e] of exits.entries()) assert.is(e.code, 0, watchers[i]!.output())
}

test('two and then three watchers on one database: each per-second tick runs exactly once, none is lost', async () => {
  const project = await watchProject(
    `schedules: { every: { cron: '* * * * * *', run: 'insert', tags: ['ha'] } },`,
  )
  const env = { DATABASE_URL: db.url }
  const watchers = [
    spawnWatch([], { cwd: project.dir, env }),
    spawnWatch([], { cwd: project.dir, env }),
  ]
  try {
    await Promise.all(watchers.map((w) => w.waitFor((e) => e.event === 'watch.started')))
    const bothUp = Date.now()
    await sleepMs(3500)
    watchers.push(spawnWatch([], { cwd: project.dir, env }))
    await watchers[2]!.waitFor((e) => e.event === 'watch.started')
    const allUp = Date.now()
    await sleepMs(3500)
    await stopAll(watchers)

    const { rows: runs } = await db.query<{
      tick: Date
      id: string
      status: string
      pid: number
      tags: string[]
    }>(`select tick, id, status, pid, tags from dbops.runs where schedule = 'every' order by tick`)
    const { rows: seen } = await db.query<{ run_id: string }>('select run_id from seen')
    // Exactly once: one history row per tick, one inserted row per run, nothing else.
    assert.is(new Set(runs.map((r) => r.tick.getTime())).size, runs.length)
    assert.is(seen.length, runs.length)
    assert.equal(new Set(seen.map((s) => s.run_id)), new Set(runs.map((r) => r.id)))
    assert.ok(runs.every((r) => r.status === 'success' && r.tags.join() === 'ha'))
    // No tick was lost while the watchers were up: consecutive seconds.
    const inWindow = runs.filter(
      (r) => r.tick.getTime() >= bothUp && r.tick.getTime() <= allUp + 3000,
    )
    assert.ok(inWindow.length >= 6, `only ${inWindow.length} ticks ran in ~7s`)
    for (let i = 1; i < inWindow.length; i++)
      assert.is(
        inWindow[i]!.tick.getTime() - inWindow[i - 1]!.tick.getTime(),
        1000,
        `gap before ${inWindow[i]!.tick.toISOString()}`,
      )
    // The others saw the ticks and stood down.
    const ran = watchers.map((w) => w.events().filter((e) => e.event === 'run.started').length)
    assert.is(
      ran.reduce((a, b) => a + b),
      runs.length,
    )
  } finally {
    for (const w of watchers) w.kill('SIGKILL')
    await project.remove()
  }
})

test('a watcher killed with SIGKILL mid-run: its run is marked lost after the lease, not run again, and the next tick runs elsewhere', async () => {
  await resetDatabase(db)
  const project = await watchProject(`schedules: { long: { cron: '* * * * * *', run: 'slow' } },`)
  const env = { DATABASE_URL: db.url, SLOW_MS: '60000' }
  const a = spawnWatch(['--lease', '2s', '--shutdown-timeout', '500ms'], { cwd: project.dir, env })
  const b = spawnWatch(['--lease', '2s', '--shutdown-timeout', '500ms'], { cwd: project.dir, env })
  try {
    const started = await Promise.race(
      [a, b].map((w) => w.waitFor((e) => e.event === 'run.started')),
    )
    const [victim, survivor] = a.events().includes(started) ? [a, b] : [b, a]
    await survivor.waitFor((e) => e.event === 'watch.started')
    // While the lease is fresh the survivor skips: the schedule does not run over itself.
    await survivor.waitFor((e) => e.event === 'tick.skipped')
    victim.kill('SIGKILL')
    await victim.exited
    const lost = await survivor.waitFor((e) => e.event === 'run.lost', 8000)
    assert.is(lost.runId, started.runId)
    const next = await survivor.waitFor((e) => e.event === 'run.started', 5000)
    assert.ok(Date.parse(next.tick) > Date.parse(started.tick))
    survivor.kill('SIGTERM')
    assert.is((await survivor.exited).code, 0, survivor.output())

    const { rows } = await db.query<{
      id: string
      tick: Date
      status: string
      pid: number
      error: string | null
    }>(`select id, tick, status, pid, error from dbops.runs order by tick`)
    const victimRun = rows.find((r) => r.id === started.runId)!
    assert.is(victimRun.status, 'lost')
    assert.is(victimRun.pid, victim.pid)
    assert.match(victimRun.error ?? '', /stopped renewing its lease/)
    assert.is(rows.filter((r) => r.tick.getTime() === victimRun.tick.getTime()).length, 1) // not run twice
    const survivorRun = rows.find((r) => r.id === next.runId)!
    assert.is(survivorRun.status, 'aborted')
    assert.is(rows.length, 2)
  } finally {
    a.kill('SIGKILL')
    b.kill('SIGKILL')
    await project.remove()
  }
})

test.run()
