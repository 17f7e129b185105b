// Shared setup of the reindex suites: a project dir whose config loads the plugin, and tables
// with real bloat (rows inserted, then most deleted or updated, never VACUUM FULL).
import { flushStats, makeWorkdir, type TestDatabase } from '@dbops/test-utils'

export async function reindexProject(options: string, extra = '') {
  return makeWorkdir({
    'dbops.config.ts': `import { defineConfig, env } from 'dbops'
import reindex from '@dbops/reindex'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  pool: { max: 5 },
  plugins: [reindex(${options})],
  pipelines: { optimize: ['reindex:plan', 'reindex:apply', 'reindex:analyze'] },
  ${extra}
})
`,
  })
}

/** Options that make a few MB of test data count: thresholds scaled down, fast retries. */
export const TEST_OPTIONS = `{ minBloatSize: '256kB', minTableSize: '64kB', retryDelays: ['100ms'], attempts: 2 }`

/** `bloated_email_idx` on 60k rows of which 90% are then deleted: about 90% bloat. */
export async function makeBloatedTable(
  db: TestDatabase,
  name = 'bloated',
  rows = 60_000,
): Promise<void> {
  await db.query(
    `create table ${name} (id bigserial primary key, email text not null, n int not null default 0) with (autovacuum_enabled = off)`,
  )
  await db.query(`create index ${name}_email_idx on ${name} (email)`)
  await db.query(
    `insert into ${name} (email, n) select md5(g::text) || '@example.com', g from generate_series(1, ${rows}) g`,
  )
  await db.query(`update ${name} set n = n + 1 where id % 10 = 1`)
  await db.query(`delete from ${name} where id % 10 <> 0`)
  await flushStats(db)
}

/** A table whose index has no bloat to speak of. */
export async function makeHealthyTable(
  db: TestDatabase,
  name = 'healthy',
  rows = 30_000,
): Promise<void> {
  await db.query(`create table ${name} (id bigserial primary key, code text not null)`)
  await db.query(
    `insert into ${name} (code) select md5(g::text) from generate_series(1, ${rows}) g`,
  )
  await db.query(`create index ${name}_code_idx on ${name} (code)`)
  await flushStats(db)
  await db.query(`analyze ${name}`)
}

/** A table too small to bother with, even though its index is bloated. */
export async function makeSmallTable(db: TestDatabase, name = 'tiny'): Promise<void> {
  await db.query(`create table ${name} (id int primary key, v text)`)
  await db.query(`insert into ${name} select g, md5(g::text) from generate_series(1, 400) g`)
  await db.query(`delete from ${name} where id > 40`)
  await flushStats(db)
  await db.query(`analyze ${name}`)
}

export async function indexBytes(db: TestDatabase, index: string): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>(
    `select pg_relation_size($1::regclass) as bytes`,
    [index],
  )
  return Number(rows[0]!.bytes)
}

export async function indexIdentity(
  db: TestDatabase,
  index: string,
): Promise<{ oid: number; relfilenode: number; valid: boolean } | undefined> {
  const { rows } = await db.query<{ oid: number; relfilenode: number; valid: boolean }>(
    `select c.oid::int as oid, c.relfilenode::int as relfilenode, i.indisvalid as valid from pg_class c join pg_index i on i.indexrelid = c.oid where c.relname = $1`,
    [index],
  )
  return rows[0]
}

export async function invalidIndexes(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid where not i.indisvalid order by 1`,
  )
  return rows.map((r) => r.name)
}

/** Leaves `<index>_ccnew` INVALID, as a REINDEX CONCURRENTLY that lost its lock does. */
export async function leaveCcnew(db: TestDatabase, table: string, index: string): Promise<void> {
  const pg = (await import('pg')).default
  const blocker = new pg.Client({ connectionString: db.url })
  const victim = new pg.Client({ connectionString: db.url })
  await Promise.all([blocker.connect(), victim.connect()])
  try {
    await blocker.query('begin')
    await blocker.query(`update ${table} set n = n where id = (select min(id) from ${table})`)
    await victim.query(`set lock_timeout = '300ms'`)
    await victim.query(`reindex index concurrently ${index}`).then(
      () => {
        throw new Error('expected the reindex to time out')
      },
      (error: { code?: string }) => {
        if (error.code !== '55P03') throw error
      },
    )
  } finally {
    await blocker.query('rollback').catch(() => {})
    await Promise.all([blocker.end(), victim.end()])
  }
}
