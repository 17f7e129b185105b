// Each check sees a real condition made in a real PostgreSQL, through the CLI a user runs.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import type { HealthReport } from '../src/types.ts'
import { healthJson, healthProject, result, session, sleep, waitFor } from './setup.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof healthProject>>
let report: HealthReport
let exitCode: number | null
const sessions: pg.Client[] = []
const gid = `dbops_health_${process.pid}`
const slot = `dbops_health_slot_${process.pid}`

const OPTIONS = `{
  checks: {
    idle_in_transaction: { warning: '1s', critical: '1h' },
    long_queries: { warning: '1s' },
    long_transactions: { warning: '1s' },
    blocked_queries: { warning: '500ms', critical: '1h' },
    unused_indexes: { minSize: '1kB', minStatsAge: '0s' },
    seq_scans: { minRows: 1000 },
    index_bloat: { warning: '500kB', critical: '1GB' },
    table_bloat: { warning: '1MB', critical: '1GB' },
    vacuum: { warning: '0s' },
    analyze: { warning: '0s' },
    slow_queries: { warning: '20ms', minCalls: 3 },
    backup_freshness: { storage: ['local'] },
    amcheck: { indexes: ['lie_idx', 'bloat_pkey'], heapAllIndexed: true },
  },
}`

test.before(async () => {
  try {
    await setUp()
  } catch (error) {
    console.error('setup failed:', error) // uvu would swallow it
    throw error
  }
})

async function setUp() {
  db = await createTestDatabase('health_cond')
  await db.query(`
    create extension amcheck;
    create extension pg_stat_statements;
    -- duplicate: dup_a is a prefix of dup_a_b
    create table dup (a int, b int);
    create index dup_a on dup (a);
    create index dup_a_b on dup (a, b);
    -- foreign keys, one without an index
    create table parent (id int primary key);
    create table child (id int primary key, parent_id int references parent (id));
    create table child_ok (id int primary key, parent_id int references parent (id));
    create index child_ok_parent on child_ok (parent_id);
    alter table child add constraint child_id_positive check (id > 0) not valid;
    -- a disabled trigger
    create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
    create trigger audit before insert on parent for each row execute function noop();
    alter table parent disable trigger audit;
    -- a bigint sequence feeding an integer column (the column is the limit), and a serial at 96%
    create sequence big_seq as bigint;
    create table seq_int (id int default nextval('big_seq'));
    alter sequence big_seq owned by seq_int.id;
    select setval('big_seq', 1900000000);
    create table seq_crit (id serial);
    select setval('seq_crit_id_seq', 2070000000);
    -- rows for lock tests and prepared transactions
    create table blk (id int primary key, x int);
    insert into blk values (1, 1);
    create table prep (id int);
    -- bloat: 90% of rows deleted and vacuumed, files keep their size
    create table bloat (id int primary key, pad text) with (autovacuum_enabled = false);
    insert into bloat select g, repeat('x', 120) from generate_series(1, 60000) g;
    delete from bloat where id % 10 <> 0;
  `)
  await db.query('select pg_stat_force_next_flush()') // the delete must count before ANALYZE, not after
  await db.query('vacuum analyze bloat')
  // dead tuples autovacuum is not allowed to clean
  await db.query(
    `create table dead (id int) with (autovacuum_enabled = false); insert into dead select generate_series(1, 5000); delete from dead`,
  )
  // statistics gone stale: half the rows deleted after ANALYZE
  await db.query(
    `create table stale_t (id int primary key) with (autovacuum_enabled = false); insert into stale_t select generate_series(1, 60000)`,
  )
  await db.query('analyze stale_t')
  await db.query('delete from stale_t where id % 2 = 0')
  // a corrupt index amcheck can prove: an "immutable" function that changed its mind
  await db.query(`create table lie (x int); insert into lie select generate_series(1, 1000);
    create function lie_f(int) returns int language sql immutable as 'select $1';
    create index lie_idx on lie (lie_f(x));
    create or replace function lie_f(int) returns int language sql immutable as 'select -$1'`)
  // an invalid index: a unique index built concurrently over duplicates fails and stays
  await db.query(`create table inv (x int); insert into inv values (1), (1)`)
  await db.query('create unique index concurrently inv_x_uq on inv (x)').then(
    () => assert.unreachable('the build should fail'),
    () => {},
  )
  // sequential scans on a big table, and statements slow on average
  for (let i = 0; i < 3; i++) await db.query(`select count(*) from bloat where pad = 'y'`)
  for (let i = 0; i < 4; i++) await db.query('select pg_sleep(0.03)')
  await db.query('select pg_stat_force_next_flush()')
  await db.query('select 1')

  // sessions: one idle in a transaction holding a row lock, one blocked behind it, one running long
  const holder = await session(db)
  const waiter = await session(db)
  const sleeper = await session(db)
  const preparer = await session(db)
  sessions.push(holder, waiter, sleeper, preparer)
  await holder.query('begin')
  await holder.query('update blk set x = 2 where id = 1')
  void waiter.query('update blk set x = 3 where id = 1').catch(() => {})
  void sleeper.query('select pg_sleep(30)').catch(() => {})
  await preparer.query('begin')
  await preparer.query('insert into prep values (1)')
  await preparer.query(`prepare transaction '${gid}'`)
  await db.query(`select pg_create_physical_replication_slot('${slot}', true)`)
  // an index being built right now: CREATE INDEX CONCURRENTLY waits for an old snapshot
  const snapshot = await session(db)
  const builder = await session(db)
  sessions.push(snapshot, builder)
  await db.query('create table building (x int)')
  await snapshot.query('begin isolation level repeatable read')
  await snapshot.query('select 1')
  void builder.query('create index concurrently building_x on building (x)').catch(() => {})
  await waitFor(
    async () =>
      (
        await db.query(
          `select 1 from pg_stat_progress_create_index p join pg_class c on c.oid = p.relid where c.relname = 'building' and p.phase like 'waiting%'`,
        )
      ).rowCount === 1,
    'the concurrent build to wait',
  )
  assert.is(
    (
      await db.query(
        `select 1 from pg_index where indexrelid = 'building_x'::regclass and not indisvalid`,
      )
    ).rowCount,
    1,
  )
  await waitFor(
    async () =>
      (
        await db.query(
          `select 1 from pg_stat_activity where wait_event_type = 'Lock' and query like 'update blk%' and datname = current_database()`,
        )
      ).rowCount === 1,
    'the blocked update',
  )

  project = await healthProject(OPTIONS, `storage: { local: { dir: './backups' } },`)
  // an old backup set: the manifest says it finished three days ago
  const finished = new Date(Date.now() - 3 * 86400_000).toISOString()
  const setDir = path.join(project.dir, 'backups', db.name, '20261122T020000Z-abcd')
  await mkdir(setDir, { recursive: true })
  await writeFile(path.join(setDir, 'dump.pgdump'), 'x')
  await writeFile(
    path.join(setDir, 'manifest.json'),
    JSON.stringify({
      manifestVersion: 1,
      id: '20261122T020000Z-abcd',
      database: db.name,
      startedAt: finished,
      finishedAt: finished,
      serverVersion: '15',
      pgDumpVersion: '15',
      format: 'custom',
      compression: { algorithm: 'none' },
      encryption: null,
      objects: [{ name: 'dump.pgdump', role: 'dump', size: 1, sha256: 'a'.repeat(64) }],
    }),
  )
  await sleep(1300) // past the 1 s thresholds of the session checks
  const run = await healthJson(project.dir, db.passwordUrl)
  report = run.report
  exitCode = run.code
}

test.after(async () => {
  await db
    .query(
      `select pg_cancel_backend(pid) from pg_stat_activity where application_name = 'health-test' and datname = current_database()`,
    )
    .catch(() => {})
  for (const s of sessions) await s.end().catch(() => {})
  await db.query(`rollback prepared '${gid}'`).catch(() => {})
  await db.query(`select pg_drop_replication_slot('${slot}')`).catch(() => {})
  await project?.remove()
  await db.drop()
})

test('a critical finding makes `dbops health` exit 1 and the report says CRITICAL', () => {
  assert.is(exitCode, 1)
  assert.is(report.status, 'critical')
  assert.is(report.schemaVersion, 1)
})

test('invalid index from a failed concurrent build', () => {
  const r = result(report, 'invalid_indexes')
  assert.is(r.status, 'warning')
  assert.ok(
    r.findings.some(
      (f) =>
        f.object === 'inv_x_uq' &&
        /uniqueness is NOT enforced/.test(f.detail!) &&
        /CREATE INDEX CONCURRENTLY/.test(f.detail!),
    ),
    JSON.stringify(r.findings),
  )
})

test('an index being built concurrently right now is not reported as invalid', () => {
  const r = result(report, 'invalid_indexes')
  assert.not.ok(
    r.findings.some((f) => f.object === 'building_x'),
    JSON.stringify(r.findings),
  )
})

test('redundant index: a prefix of another index of the same table', () => {
  const r = result(report, 'duplicate_indexes')
  assert.is(r.status, 'warning')
  assert.equal(
    r.findings.map((f) => f.object),
    ['dup_a'],
  )
  assert.match(r.findings[0]!.detail!, /dup_a_b/)
})

test('foreign key without an index (and not the one that has one)', () => {
  const r = result(report, 'fk_without_index')
  assert.is(r.status, 'warning')
  assert.equal(
    r.findings.map((f) => f.object),
    ['child.child_parent_id_fkey'],
  )
  assert.match(r.findings[0]!.detail!, /CREATE INDEX CONCURRENTLY ON child \(parent_id\)/)
})

test('NOT VALID constraint', () => {
  const r = result(report, 'not_valid_constraints')
  assert.is(r.status, 'warning')
  assert.equal(
    r.findings.map((f) => f.object),
    ['child.child_id_positive'],
  )
})

test('disabled trigger is critical by default (check_postgres 1/1)', () => {
  const r = result(report, 'disabled_triggers')
  assert.is(r.status, 'critical')
  assert.equal(
    r.findings.map((f) => f.object),
    ['parent.audit'],
  )
})

test('sequences near exhaustion: the column type limits a bigint sequence; a serial at 96% is critical', () => {
  const r = result(report, 'sequences')
  assert.is(r.status, 'critical')
  const crit = r.findings.find((f) => f.object.startsWith('seq_crit_id_seq'))!
  assert.is(crit.status, 'critical')
  const big = r.findings.find((f) => f.object.startsWith('big_seq'))!
  assert.is(big.status, 'warning')
  assert.match(big.detail!, /limited by the integer column; the sequence is bigint/)
  assert.ok(Math.abs(big.value! - 88.47) < 0.1, String(big.value))
})

test('idle in transaction: the session holding the row lock', () => {
  const r = result(report, 'idle_in_transaction')
  assert.is(r.status, 'warning')
  assert.ok(
    r.findings.some((f) => /health-test/.test(f.object) && /update blk/.test(f.detail!)),
    JSON.stringify(r.findings),
  )
})

test('blocked query and who blocks it', () => {
  const r = result(report, 'blocked_queries')
  assert.is(r.status, 'warning')
  const update = r.findings.find((f) => /update blk set x = 3/.test(f.detail!))!
  const holderPid = (sessions[0] as unknown as { processID: number }).processID
  assert.match(
    update.detail!,
    new RegExp(
      `waits for transactionid lock, blocked by pid ${holderPid} \\(postgres, idle in transaction\\)`,
    ),
  )
  // The concurrent index build waits for older snapshots: also a blocked session. On the
  // shared test cluster the snapshot it waits for first may be another suite's session, so
  // only the kind of wait is asserted, not which session it names.
  const build = r.findings.find((f) => /create index concurrently building_x/.test(f.detail!))!
  assert.match(build.detail!, /waits for virtualxid lock, blocked by pid \d+ \(/)
})

test('long-running query and long transaction', () => {
  assert.ok(result(report, 'long_queries').findings.some((f) => /pg_sleep\(30\)/.test(f.detail!)))
  assert.is(result(report, 'long_queries').status, 'warning')
  assert.ok(
    result(report, 'long_transactions').findings.some((f) =>
      /update blk set x = 2/.test(f.detail!),
    ),
  )
})

test('prepared transaction older than 1 s is a warning (check_postgres 1 s / 30 s)', () => {
  const r = result(report, 'prepared_transactions')
  assert.is(r.status, 'warning')
  assert.ok(r.findings.some((f) => f.object.includes(gid)))
})

test('inactive replication slot is critical', () => {
  const r = result(report, 'replication_slots')
  assert.is(r.status, 'critical')
  const f = r.findings.find((x) => x.object.startsWith(slot))!
  assert.match(f.detail!, /INACTIVE/)
})

test('unused indexes, sequential scans, slow statements', () => {
  assert.ok(result(report, 'unused_indexes').findings.some((f) => f.object === 'dup_a_b'))
  const seq = result(report, 'seq_scans')
  assert.ok(
    seq.findings.some((f) => f.object === 'bloat'),
    JSON.stringify(seq),
  )
  const slow = result(report, 'slow_queries')
  assert.is(slow.status, 'warning')
  assert.ok(
    slow.findings.some((f) => /pg_sleep/.test(f.detail!)),
    JSON.stringify(slow.findings),
  )
})

test('bloat estimates find the table and index that lost 90% of their rows', () => {
  const table = result(report, 'table_bloat')
  assert.is(table.status, 'warning', table.message)
  assert.equal(
    table.findings.map((f) => f.object),
    ['bloat'],
  )
  assert.ok(table.findings[0]!.value! > 4 * 1024 * 1024)
  const index = result(report, 'index_bloat')
  assert.is(index.status, 'warning', index.message)
  assert.ok(index.findings.some((f) => f.object === 'bloat_pkey'))
  // an estimate from statistics that no longer describe the table is withheld, and said so
  assert.match(index.message, /not estimated: statistics too stale .*e\.g\. stale_t_pkey/)
  assert.not.ok(index.findings.some((f) => f.object === 'stale_t_pkey'))
})

test('vacuum and analyze: dead tuples autovacuum may not clean', () => {
  assert.ok(
    result(report, 'vacuum').findings.some(
      (f) => f.object === 'dead' && /5,000 dead tuples/.test(f.detail!),
    ),
    JSON.stringify(result(report, 'vacuum')),
  )
  assert.ok(result(report, 'analyze').findings.some((f) => f.object === 'dead'))
})

test('backup freshness: the newest set finished three days ago', () => {
  const r = result(report, 'backup_freshness')
  assert.is(r.status, 'critical')
  assert.ok(r.value! > 2.9 * 86400 && r.value! < 3.1 * 86400)
})

test('amcheck finds the corrupt index (heapallindexed) and passes the sound one', () => {
  const r = result(report, 'amcheck')
  assert.is(r.status, 'critical')
  assert.match(r.message, /^2 of 2 index\(es\) verified, 1 corrupt/)
  assert.equal(
    r.findings.map((f) => f.object),
    ['lie_idx'],
  )
  assert.match(r.findings[0]!.detail!, /on lie: heap tuple .* lacks matching index tuple/)
})

test('checks with nothing to report are OK; not-applicable ones are skipped, not unknown', () => {
  for (const id of [
    'connection',
    'version',
    'connections',
    'xid_wraparound',
    'mxid_wraparound',
    'pool',
  ])
    assert.is(result(report, id).status, 'ok', id)
  assert.is(result(report, 'replication_lag').status, 'skipped')
  assert.is(
    report.counts.unknown,
    0,
    JSON.stringify(report.checks.filter((c) => c.status === 'unknown')),
  )
})

test.run()
