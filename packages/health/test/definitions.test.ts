// Index and constraint definitions written from the catalogs alone read exactly as the
// server's own pg_get_indexdef() / pg_get_constraintdef() write them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase, type TestDatabase } from '@dbops/test-utils'
import { readConstraintDefinitions } from '../src/checks/constraint-definition.ts'
import { readIndexDefinitions } from '../src/checks/index-definition.ts'

let db: TestDatabase
let client: pg.Client

test.before(async () => {
  try {
    await setUp()
  } catch (error) {
    console.error('setup failed:', error) // uvu would swallow it
    throw error
  }
})

async function setUp() {
  db = await createTestDatabase('health_defs')
  await db.query(`
    create schema "Other Schema";
    create table parent (id int primary key, code text unique, a int, b int, unique (a, b));
    create table t (id bigint generated always as identity primary key, a int, b text, c text collate "C", d timestamptz, doc tsvector, p int, "Mixed Case" int, big_a int, big_b int);
    create index t_plain on t (a);
    create index t_multi on t (a desc, b nulls first, d desc nulls last, c asc nulls last);
    create index t_expr on t ((a + 1), lower(b), (b collate "C") text_pattern_ops desc) include (p) with (fillfactor = 70, deduplicate_items = off) where (a > 0 and b is not null);
    create index t_pattern on t (b varchar_pattern_ops);
    create index t_coll on t (b collate "POSIX");
    create index t_quoted on t ("Mixed Case");
    create unique index t_nnd on t (a, b) nulls not distinct;
    create index t_hash on t using hash (b);
    create index t_gin on t using gin (doc);
    create index t_gist on t using gist (doc tsvector_ops (siglen = 100));
    create index t_brin on t using brin (d) with (pages_per_range = 16);
    create index "Odd Name" on t (p) where "Mixed Case" is null;
    create table "Other Schema"."Other Table" (x int, y int);
    create index other_idx on "Other Schema"."Other Table" (x, y desc);
    create table part (k int, v int) partition by range (k);
    create table part_1 partition of part for values from (0) to (100);
    create index part_v on part (v);
    -- constraints of every kind the health checks name
    alter table t add constraint t_fk foreign key (a) references parent (id) not valid;
    alter table t add constraint t_fk_full foreign key (a, p) references parent (a, b) match full on update cascade on delete set null (a) deferrable initially deferred;
    alter table t add constraint t_fk_code foreign key (b) references parent (code) on delete restrict on update set default;
    alter table "Other Schema"."Other Table" add constraint ot_uq unique (x, y);
    alter table t add constraint t_fk_other foreign key (a, p) references "Other Schema"."Other Table" (x, y) not valid;
    alter table t add constraint t_check check (a > 0 and (b is null or length(b) < 10)) not valid;
    alter table t add constraint t_check_ni check ("Mixed Case" <> 0) no inherit not valid;
    create domain positive as int constraint positive_check check (value > 0);
    alter domain positive add constraint positive_small check (value < 1000) not valid;
  `)
  client = new pg.Client({ connectionString: db.url })
  await client.connect()
}

test.after(async () => {
  await client?.end()
  await db.drop()
})

const check = () =>
  ({
    sql: async (text: string, params?: unknown[]) =>
      (await client.query(text, params as unknown[])).rows,
    ctx: { signal: new AbortController().signal },
  }) as any

test('every index definition matches pg_get_indexdef()', async () => {
  const { rows } = await client.query(
    `select i.indexrelid::int8::text as oid, pg_get_indexdef(i.indexrelid) as def from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname in ('public', 'Other Schema')`,
  )
  assert.ok(rows.length >= 18, String(rows.length))
  await client.query('begin')
  try {
    const defs = await readIndexDefinitions(
      check(),
      rows.map((r) => r.oid),
    )
    for (const r of rows) assert.is(defs.get(r.oid)?.text, r.def)
    assert.ok(![...defs.values()].some((d) => d.withheld))
  } finally {
    await client.query('rollback')
  }
})

test('every foreign key and CHECK definition matches pg_get_constraintdef()', async () => {
  const { rows } = await client.query(
    `select c.oid::int8::text as oid, c.contype as kind, c.conname, pg_get_constraintdef(c.oid) as def from pg_constraint c join pg_namespace n on n.oid = c.connamespace where n.nspname in ('public', 'Other Schema') and c.contype in ('f', 'c')`,
  )
  assert.ok(rows.length >= 8, String(rows.length))
  await client.query('begin')
  try {
    const defs = await readConstraintDefinitions(check(), rows)
    for (const r of rows) assert.is(defs.get(r.oid)?.text, r.def, r.conname)
  } finally {
    await client.query('rollback')
  }
})

test.run()
