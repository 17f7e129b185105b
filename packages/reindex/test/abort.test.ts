import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import {
  createTestDatabase,
  flushStats,
  runCli,
  spawnCli,
  type TestDatabase,
} from '@dbops/test-utils'
import { indexIdentity, invalidIndexes, reindexProject } from './fixtures.ts'

let db: TestDatabase

/** While the test holds this advisory lock, a build of `slow_key_idx` waits for it. */
const HOLD_BUILD = 720_412

test.before(async () => {
  db = await createTestDatabase('reindex_abort')
  // An expression index whose key function, when the database says so, waits for an advisory
  // lock the test holds: a rebuild then stays in its "building index" phase until the test
  // interrupts it, however fast or loaded the machine is.
  await db.query(`create function slow_key(x int) returns int language plpgsql immutable as $$
    begin
      if current_setting('dbops_test.hold', true) = 'on' then perform pg_advisory_xact_lock_shared(${HOLD_BUILD}); end if;
      return x;
    end $$`)
  await db.query(
    'create table slow (id int primary key, n int not null default 0) with (autovacuum_enabled = off)',
  )
  await db.query('create index slow_key_idx on slow (slow_key(id))')
  await db.query('insert into slow (id) select g from generate_series(1, 40000) g')
  await db.query('delete from slow where id % 20 <> 0')
  await flushStats(db)
  await db.query('analyze slow')
  await db.query(`alter database "${db.name}" set dbops_test.hold = 'on'`)
})
test.after(async () => {
  await db?.drop()
})

/** The pid of the build on `table` once it is in its "building index" phase; fails when the CLI ends first. */
async function waitForBuild(
  table: string,
  cli: { done: Promise<{ code: number | null; stdout: string; stderr: string }> },
  timeoutMs = 60_000,
): Promise<number> {
  let ended: { code: number | null; stdout: string; stderr: string } | undefined
  void cli.done.then((r) => (ended = r))
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const { rows } = await db.query<{ pid: number }>(
      `select pid from pg_stat_progress_create_index where relid = $1::regclass and phase like 'building index%'`,
      [table],
    )
    if (rows[0]) return rows[0].pid
    if (ended)
      throw new Error(
        `the CLI exited (${ended.code}) before an index build on ${table} began:\n${ended.stdout}${ended.stderr}`,
      )
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no index build on ${table} within ${timeoutMs}ms`)
}

test('Ctrl-C mid-rebuild cancels the statement, drops the half-built _ccnew and exits 130; a second run meanwhile is refused', async () => {
  const before = await indexIdentity(db, 'slow_key_idx')
  assert.ok(before?.valid)
  // lockTimeout also bounds the build's wait for the test's advisory lock: longer than any test run
  const project = await reindexProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', analyzeBeforeEstimate: false, lockTimeout: '10m', exclude: ['slow_pkey'] }`,
  )
  const holder = new pg.Client({ connectionString: db.url })
  await holder.connect()
  try {
    await holder.query('select pg_advisory_lock($1)', [HOLD_BUILD])
    const env = { DATABASE_URL: db.url }
    const first = spawnCli(['reindex', 'apply'], { cwd: project.dir, env })
    const buildPid = await waitForBuild('slow', first)
    assert.ok(
      (await invalidIndexes(db)).includes('slow_key_idx_ccnew'),
      'the new index is being built',
    )
    // progress from pg_stat_progress_create_index is shown while it runs
    await first.stderrMatches(
      /\[1\/1\] public\.slow_key_idx: building index: scanning table, \d+% of \d+ blocks/,
    )

    // a second maintenance run while the first holds the lock
    const second = await runCli(['reindex', 'apply'], { cwd: project.dir, env })
    assert.is(second.code, 1, second.stderr)
    assert.match(second.stderr, /the "maintenance" lock is held by pid \d+ \(dbops/)

    first.child.kill('SIGINT')
    const r = await first.done
    assert.is(r.code, 130, r.stdout + r.stderr)
    assert.match(r.stderr, /interrupted/)
    // the rebuild's backend is not left running, and nothing of it remains
    const running = await db.query(
      `select 1 from pg_stat_activity where pid = $1 and state = 'active'`,
      [buildPid],
    )
    assert.is(running.rowCount, 0)
    assert.equal(await invalidIndexes(db), [])
    assert.equal(await indexIdentity(db, 'slow_key_idx'), before)
  } finally {
    await holder.end()
    await project.remove()
  }
})

test('a rebuild that fails for a reason other than policy fails the step, names the index, and leaves the old index valid', async () => {
  await db.query('create schema fragile')
  await db.query(`create function fragile.key(x int) returns int language plpgsql immutable as $$
    begin
      if current_setting('dbops_test.fail', true) = 'on' then raise exception 'key function exploded on %', x; end if;
      return x;
    end $$`)
  await db.query('create table fragile.items (id int primary key) with (autovacuum_enabled = off)')
  await db.query('create index items_key_idx on fragile.items (fragile.key(id))')
  await db.query('insert into fragile.items select g from generate_series(1, 40000) g')
  await db.query('delete from fragile.items where id % 20 <> 0')
  await flushStats(db)
  await db.query('analyze fragile.items')
  await db.query(`alter database "${db.name}" set dbops_test.fail = 'on'`)
  const before = await indexIdentity(db, 'items_key_idx')
  const project = await reindexProject(
    `{ schemas: ['fragile'], minBloatSize: '256kB', minTableSize: '64kB', analyzeBeforeEstimate: false, exclude: ['items_pkey'] }`,
  )
  try {
    const r = await runCli(['run', 'optimize', '--json'], {
      cwd: project.dir,
      env: { DATABASE_URL: db.url },
    })
    assert.is(r.code, 1, r.stdout + r.stderr)
    const step = (
      JSON.parse(r.stdout) as {
        steps: { id: string; status: string; error?: { code: string; message: string } }[]
      }
    ).steps.find((s) => s.id === 'reindex:apply')!
    assert.is(step.status, 'failed')
    assert.is(step.error!.code, 'REINDEX_FAILED')
    assert.match(
      step.error!.message,
      /1 of 1 index rebuild\(s\) failed: fragile\.items_key_idx: REINDEX failed: key function exploded on \d+ \(SQLSTATE P0001\)/,
    )
    assert.equal(await indexIdentity(db, 'items_key_idx'), before)
    assert.equal(await invalidIndexes(db), [])
  } finally {
    await db.query(`alter database "${db.name}" reset dbops_test.fail`)
    await project.remove()
  }
})

test.run()
