// A migration holds ACCESS EXCLUSIVE on the tables the findings are about: the catalog
// checks still report those findings, without waiting for the lock.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import type pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import type { HealthReport } from '../src/types.ts'
import { healthJson, healthProject, result, session, waitFor } from './setup.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof healthProject>>
const sessions: pg.Client[] = []

/** The checks that read only the catalogs: none of them may wait for a user's lock. */
const CATALOG_CHECKS = [
  'invalid_indexes',
  'duplicate_indexes',
  'unused_indexes',
  'fk_without_index',
  'sequences',
  'not_valid_constraints',
  'disabled_triggers',
  'seq_scans',
  'vacuum',
  'analyze',
  'xid_wraparound',
  'mxid_wraparound',
]
/**
 * A lock wait would last until lock_timeout, since the migration holds its locks until the
 * test ends: a check that waited is UNKNOWN ("waited 4000 ms for a lock"), whatever the
 * machine's speed. So "not UNKNOWN" proves "did not wait".
 */
const LOCK_TIMEOUT_MS = 4000

test.before(async () => {
  db = await createTestDatabase('health_locks')
  await db.query(`
    create table team (id int primary key);
    insert into team select generate_series(1, 50);
    create table acct (id serial primary key, email text, org int, note text);
    insert into acct (email, org, note) select 'u' || g || '@example.com', g % 50 + 1, 'note ' || g from generate_series(1, 2000) g;
    insert into acct (email, org, note) values ('twice@example.com', 1, 'a'), ('twice@example.com', 1, 'b');
    -- redundant: acct_org is a prefix of acct_org_email
    create index acct_org on acct (org);
    create index acct_org_email on acct (org, email desc);
    -- exact twins with an expression and a predicate
    create index acct_note_lower on acct (lower(note)) where org > 0;
    create index acct_note_lower_twin on acct (lower(note)) where org > 0;
    -- NOT VALID constraints: a check and a foreign key
    alter table acct add constraint acct_org_positive check (org > 0) not valid;
    alter table acct add constraint acct_team_fk foreign key (org) references team (id) on delete cascade not valid;
    -- a foreign key without an index
    create table membership (id int primary key, acct_id int references acct (id));
    -- a disabled trigger
    create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
    create trigger acct_audit before insert on acct for each row execute function noop();
    alter table acct disable trigger acct_audit;
    -- the serial is at 97.8% of its integer column
    select setval('acct_id_seq', 2100000000);
    analyze;
  `)
  // an invalid index: a unique build over duplicates fails and stays
  await db.query('create unique index concurrently acct_email_uq on acct (email)').then(
    () => assert.unreachable('the build should fail'),
    () => {},
  )
  project = await healthProject(
    `{ lockTimeoutMs: ${LOCK_TIMEOUT_MS}, statementTimeoutMs: 30000, concurrency: 2, checks: { unused_indexes: { minSize: '1kB', minStatsAge: '0s' } } }`,
  )
})

test.after(async () => {
  for (const s of sessions) await s.end().catch(() => {})
  await project?.remove()
  await db.drop()
})

/** Another session runs a migration and keeps its transaction open: ACCESS EXCLUSIVE on the tables, an index and a queued ALTER behind it. */
async function holdMigrationLocks(): Promise<() => Promise<void>> {
  const migration = await session(db)
  const queued = await session(db)
  sessions.push(migration, queued)
  await migration.query('begin')
  await migration.query('alter table acct add column added_by_migration int')
  await migration.query('alter index acct_org_email rename to acct_org_email_v2')
  await migration.query('lock table team, membership in access exclusive mode')
  // A second ALTER waits behind the first: a queued ACCESS EXCLUSIVE request blocks readers too.
  const waiting = queued.query('alter table acct add column queued_col int').catch(() => {})
  await waitFor(
    async () =>
      (
        await db.query(
          `select 1 from pg_locks where relation = 'acct'::regclass and mode = 'AccessExclusiveLock' and not granted`,
        )
      ).rowCount === 1,
    'the queued ALTER',
  )
  return async () => {
    await migration.query('rollback')
    await waiting
  }
}

test('with a migration holding ACCESS EXCLUSIVE, every catalog check reports its real finding, none UNKNOWN', async () => {
  const release = await holdMigrationLocks()
  let report: HealthReport
  try {
    report = (await healthJson(project.dir, db.url, ['--only', CATALOG_CHECKS.join(',')])).report
  } finally {
    await release()
  }
  const unknown = report.checks.filter((c) => c.status === 'unknown')
  assert.equal(
    unknown.map((c) => `${c.check}: ${c.reason}`),
    [],
  )
  for (const id of CATALOG_CHECKS)
    assert.ok(
      result(report, id).durationMs < LOCK_TIMEOUT_MS,
      `${id} took ${result(report, id).durationMs} ms`,
    )

  const invalid = result(report, 'invalid_indexes')
  assert.is(invalid.status, 'warning')
  assert.equal(
    invalid.findings.map((f) => f.object),
    ['acct_email_uq'],
  )

  const dup = result(report, 'duplicate_indexes')
  assert.is(dup.status, 'warning')
  assert.equal(dup.findings.map((f) => f.object).sort(), ['acct_note_lower_twin', 'acct_org'])
  const prefix = dup.findings.find((f) => f.object === 'acct_org')!
  assert.match(
    prefix.detail!,
    /a prefix of acct_org_email \(CREATE INDEX acct_org_email ON public\.acct USING btree \(org, email DESC\)\)/,
  )
  const twin = dup.findings.find((f) => f.object === 'acct_note_lower_twin')!
  // The expression's text needs the table's lock: it is left out and said so, the finding stays.
  assert.match(
    twin.detail!,
    /same columns as acct_note_lower \(CREATE INDEX acct_note_lower ON public\.acct USING btree \(<expression>\) WHERE <predicate>\); \d+(\.\d)? kB to reclaim; the expression and predicate are not shown: public\.acct is locked by another session$/,
  )

  const unused = result(report, 'unused_indexes')
  assert.is(unused.status, 'warning')
  assert.ok(
    unused.findings.some((f) => f.object === 'acct_org'),
    JSON.stringify(unused.findings),
  )

  const fk = result(report, 'fk_without_index')
  assert.is(fk.status, 'warning')
  assert.equal(
    fk.findings.map((f) => f.object),
    ['membership.membership_acct_id_fkey'],
  )

  const seq = result(report, 'sequences')
  assert.is(seq.status, 'critical')
  assert.ok(
    seq.findings.some((f) => f.object.startsWith('acct_id_seq (acct.id integer)')),
    JSON.stringify(seq.findings),
  )

  const notValid = result(report, 'not_valid_constraints')
  assert.is(notValid.status, 'warning')
  const byName = Object.fromEntries(notValid.findings.map((f) => [f.object, f.detail]))
  assert.is(
    byName['acct.acct_team_fk'],
    'foreign key: FOREIGN KEY (org) REFERENCES team(id) ON DELETE CASCADE NOT VALID',
  )
  assert.match(
    byName['acct.acct_org_positive']!,
    /^check: CHECK \(<expression>\) NOT VALID \(the expression is not shown: public\.acct is locked/,
  )

  const triggers = result(report, 'disabled_triggers')
  assert.is(triggers.status, 'critical')
  assert.equal(
    triggers.findings.map((f) => f.object),
    ['acct.acct_audit'],
  )
})

test('with nothing locked, the same findings show the full definitions', async () => {
  const { report } = await healthJson(project.dir, db.url, [
    '--only',
    'duplicate_indexes,not_valid_constraints',
  ])
  const twin = result(report, 'duplicate_indexes').findings.find(
    (f) => f.object === 'acct_note_lower_twin',
  )!
  assert.match(
    twin.detail!,
    /\(CREATE INDEX acct_note_lower ON public\.acct USING btree \(lower\(note\)\) WHERE \(org > 0\)\); \d+(\.\d)? kB to reclaim$/,
  )
  const check = result(report, 'not_valid_constraints').findings.find(
    (f) => f.object === 'acct.acct_org_positive',
  )!
  assert.is(check.detail, 'check: CHECK ((org > 0)) NOT VALID')
})

test('a sequence a migration is altering is skipped and named without waiting; the others are still read', async () => {
  const migration = await session(db)
  sessions.push(migration)
  await db.query("create sequence other_seq; select setval('other_seq', 9000000000000000000)")
  await migration.query('begin')
  // ALTER SEQUENCE takes SHARE ROW EXCLUSIVE: reading the sequence would wait.
  await migration.query('alter sequence acct_id_seq maxvalue 2147483000')
  try {
    const { report } = await healthJson(project.dir, db.url, ['--only', 'sequences'])
    const seq = result(report, 'sequences')
    assert.is(seq.status, 'critical', seq.message)
    assert.ok(seq.durationMs < LOCK_TIMEOUT_MS, `sequences took ${seq.durationMs} ms`)
    assert.ok(
      seq.findings.some((f) => f.object === 'other_seq'),
      JSON.stringify(seq.findings),
    )
    assert.match(seq.reason!, /1 sequence\(s\) skipped: locked by another session \(acct_id_seq\)/)
  } finally {
    await migration.query('rollback')
    await db.query('drop sequence other_seq')
  }
})

test.run()
