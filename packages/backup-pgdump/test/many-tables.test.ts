import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase } from '@dbops/test-utils'
import { explainSqlError } from '../src/sql-errors.ts'
import { configFile, json, makeWorkdir, runCli } from './helpers.ts'

/**
 * A database of 5,000 tables at the harness cluster's default max_locks_per_transaction:
 * pg_dump can back it up, so dbops must too. Its own row counts used to hold every lock a
 * count(*) takes (the table and each of its indexes) until the snapshot's transaction ended.
 * The lock table is sized for 64 × 210 locks; dynahash's slack lets one session hold about
 * 24,000 here. Each table has 6 indexes, so counting them all in one transaction needs 35,000.
 * (Run before the fix, this filled the lock table of the whole cluster for a moment.)
 */
const TABLES = 5000
const db = await createTestDatabase('pgdump_many')
const work = await makeWorkdir()
await work.write('dbops.config.ts', configFile(`{}`))
const env = { DATABASE_URL: db.passwordUrl }

test.before(async () => {
  // Created in batches: one transaction creating them all would itself run out of locks.
  for (let from = 1; from <= TABLES; from += 250) {
    await db.query(`do $$ begin
      for i in ${from}..${Math.min(TABLES, from + 249)} loop
        execute format('create table t%1$s (id int primary key, a int, b int, c int, d int, e int);
          create index on t%1$s (a); create index on t%1$s (b); create index on t%1$s (c); create index on t%1$s (d); create index on t%1$s (e);
          insert into t%1$s values (1, 1, 1, 1, 1, 1)', i);
      end loop;
    end $$`)
  }
})

test('the premise: the cluster runs at the default max_locks_per_transaction', async () => {
  assert.is(
    (await db.query(`show max_locks_per_transaction`)).rows[0]!.max_locks_per_transaction,
    '64',
  )
})

test('a backup of 5,000 tables succeeds, with an exact row count of each', async () => {
  const r = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr.slice(-2000) + r.stdout.slice(-2000))
  assert.not.match(r.stderr, /out of shared memory|53200/)
  const set = json(r.stdout).steps[0].result.sets[0]
  const manifest = JSON.parse(
    readFileSync(path.join(work.dir, 'backups', set.prefix, 'manifest.json'), 'utf8'),
  )
  assert.is(manifest.tables.length, TABLES)
  assert.ok(
    manifest.tables.every((t: { rows: number; exact: boolean }) => t.exact && t.rows === 1),
    'every table counted exactly',
  )
})

test("the server's own SQLSTATEs become sentences with a hint", async () => {
  // Real errors of this server: a statement timeout, and a role that may not read a table.
  const timeout = await db.query(`set statement_timeout = '10ms'; select pg_sleep(5)`).then(
    () => undefined,
    (e: unknown) => e,
  )
  await db.query(`reset statement_timeout`)
  const timedOut = explainSqlError(timeout, 'counting the rows of public.t1') as Error & {
    code: string
    hint: string
  }
  assert.is(timedOut.code, 'DB_STATEMENT_TIMEOUT')
  assert.is(
    timedOut.message,
    'a statement_timeout of the role or database stopped a query while counting the rows of public.t1: canceling statement due to statement timeout (SQLSTATE 57014)',
  )
  assert.match(timedOut.hint, /ALTER ROLE/)
  const role = `${db.name}_nobody`
  await db.query(`create role ${role}`)
  const denied = await db.query(`set role ${role}; select count(*) from t1`).then(
    () => undefined,
    (e: unknown) => e,
  )
  await db.query(`reset role; drop role ${role}`)
  const refused = explainSqlError(denied, 'counting the rows of public.t1') as Error & {
    code: string
    hint: string
  }
  assert.is(refused.code, 'DB_PERMISSION_DENIED')
  assert.match(
    refused.message,
    /^the backup role may not read everything while counting the rows of public\.t1: permission denied for table t1 \(SQLSTATE 42501\)$/,
  )
  assert.match(refused.hint, /pg_read_all_data/)
  // Running out of locks is not provoked here: on the shared cluster it would fail other
  // suites' queries too. The server's answer, as pg receives it (as storage-s3 does for S3):
  const outOfLocks = Object.assign(new pg.DatabaseError('out of shared memory', 0, 'error'), {
    code: '53200',
    hint: 'You might need to increase max_locks_per_transaction.',
  })
  const locks = explainSqlError(outOfLocks, 'counting the rows of 40 tables') as Error & {
    code: string
    hint: string
  }
  assert.is(locks.code, 'DB_OUT_OF_LOCKS')
  assert.is(
    locks.message,
    'the server ran out of lock slots while counting the rows of 40 tables: out of shared memory (SQLSTATE 53200)',
  )
  assert.match(locks.hint, /raise max_locks_per_transaction/)
  // anything else keeps the server's words and hint, with its SQLSTATE
  const other = await db.query(`select 1/0`).then(
    () => undefined,
    (e: unknown) => e,
  )
  const explained = explainSqlError(other, 'reading the server version') as Error & {
    code: string
    hint: string
  }
  assert.is(
    explained.message,
    'the server refused a query while reading the server version: division by zero (SQLSTATE 22012)',
  )
})

test.after(async () => {
  await work.remove()
  await db.drop()
})
test.run()
