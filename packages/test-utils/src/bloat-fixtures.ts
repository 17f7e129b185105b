import type { TestDatabase } from './postgres.ts'

/** Makes this session's pending table statistics visible now rather than up to 10 s later. */
export async function flushStats(db: TestDatabase): Promise<void> {
  await db.query('select pg_stat_force_next_flush()')
  await db.query('select 1')
}

/**
 * The deduplication case of issue 12: `posts (org, status)`, 200k rows of which half are updated
 * (a non-HOT update: new entries in every index) and 60% deleted, then VACUUMed. The composite
 * index has ~120 distinct keys, so btree deduplication packs it tightly when rebuilt, and the
 * table's churn left most of its pages empty: a REINDEX makes it about a quarter of its size. An
 * estimate that assumes one index tuple per row expects it to be larger than it is (0% bloat).
 * `posts_status_idx` is built afterwards: just as deduplicated, and not bloated at all.
 */
export async function makeDedupTables(db: TestDatabase): Promise<void> {
  await db.query(
    `create table posts (id bigserial primary key, org int not null, status text not null, body text not null) with (autovacuum_enabled = off)`,
  )
  await db.query(`create index posts_org_status_idx on posts (org, status)`)
  await db.query(
    `insert into posts (org, status, body) select g % 100, (array['draft', 'published', 'archived', 'scheduled'])[1 + g % 4], md5(g::text) from generate_series(1, 200000) g`,
  )
  await db.query(`update posts set status = 'review' where id % 2 = 0`)
  await db.query(`delete from posts where id % 5 in (1, 2, 3)`)
  await flushStats(db)
  await db.query('vacuum analyze posts')
  await db.query(`create index posts_status_idx on posts (status)`)
}
