// A real streaming standby that falls behind its primary (replay paused), seen from both sides.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { healthJson, healthProject, result, sleep, waitFor } from './setup.ts'
import { startReplicaPair, type ReplicaPair } from './replica.ts'

let pair: ReplicaPair
let primary: pg.Client
let standby: pg.Client
let project: Awaited<ReturnType<typeof healthProject>>

test.before(async () => {
  pair = await startReplicaPair()
  primary = new pg.Client({ connectionString: pair.primaryUrl })
  standby = new pg.Client({ connectionString: pair.standbyUrl })
  await primary.connect()
  await standby.connect()
  project = await healthProject(
    `{ checks: { replication_lag: { warning: '1s', critical: '1h' } } }`,
  )
})

test.after(async () => {
  await primary?.end().catch(() => {})
  await standby?.end().catch(() => {})
  await project?.remove()
  await pair?.stop()
})

test('a standby whose replay is paused: lag on the replica, bytes behind on the primary', async () => {
  await primary.query('create table ticks (at timestamptz default now())')
  await primary.query('insert into ticks default values')
  await waitFor(
    async () => (await standby.query(`select to_regclass('ticks') is not null as ok`)).rows[0].ok,
    'the table on the standby',
  )
  await sleep(1500) // the last replayed transaction is now 1.5 s old
  await standby.query('select pg_wal_replay_pause()')
  await primary.query('insert into ticks default values')
  await waitFor(
    async () =>
      (await standby.query('select pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() as behind'))
        .rows[0].behind,
    'WAL received but not replayed',
  )

  const onStandby = await healthJson(project.dir, pair.standbyUrl, [
    '--only',
    'replication_lag,standby_lag',
  ])
  const lag = result(onStandby.report, 'replication_lag')
  assert.is(lag.status, 'warning', lag.message)
  assert.ok(lag.value! >= 1.5, String(lag.value))
  assert.match(lag.message, /received but not replayed; WAL receiver streaming/)
  assert.is(result(onStandby.report, 'standby_lag').status, 'skipped')

  const onPrimary = await healthJson(project.dir, pair.primaryUrl, [
    '--only',
    'replication_lag,standby_lag',
  ])
  const standbys = result(onPrimary.report, 'standby_lag')
  assert.is(standbys.findings.length, 1)
  assert.match(standbys.findings[0]!.detail!, /^streaming, async; \d+(\.\d)? (B|kB) behind$/)
  assert.not.match(standbys.findings[0]!.detail!, /; 0 B behind/)
  assert.is(result(onPrimary.report, 'replication_lag').status, 'skipped')

  // minStandbys: a standby that went away is critical
  await standby.query('select pg_wal_replay_resume()')
  const expectTwo = await healthProject(`{ checks: { standby_lag: { minStandbys: 2 } } }`)
  try {
    const r = await healthJson(expectTwo.dir, pair.primaryUrl, ['--only', 'standby_lag'])
    assert.is(result(r.report, 'standby_lag').status, 'critical')
    assert.match(result(r.report, 'standby_lag').message, /1 standby\(s\) connected, 2 expected/)
  } finally {
    await expectTwo.remove()
  }
})

test('a failing archive_command is critical, with the failing segment and the backlog', async () => {
  await primary.query('insert into ticks default values')
  await primary.query('select pg_switch_wal()')
  await waitFor(
    async () =>
      (await primary.query('select failed_count from pg_stat_archiver')).rows[0].failed_count > 0,
    'an archive failure',
    15_000,
  )
  const { report, code } = await healthJson(project.dir, pair.primaryUrl, ['--only', 'archiver'])
  assert.is(code, 1)
  const r = result(report, 'archiver')
  assert.is(r.status, 'critical')
  assert.match(
    r.message,
    /^archiving fails since \S+ \(last failed [0-9A-F]{24}, \d+ failures\); \d+ segments waiting$/,
  )
  assert.ok(r.value! >= 1)
})

test.run()
