import { USER_SCHEMAS, quoteIdent, type BackupManifest } from 'dbops/plugin'
import { explainSqlError } from './sql-errors.ts'

/** A client in a transaction: the snapshot's session (pg.PoolClient's shape, kept minimal). */
export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export type TableCount = BackupManifest['tables'][number]

/**
 * Ordinary tables and partitions (partitioned parents hold no rows of their own), with the
 * relation locks a `count(*)` of each takes until its transaction ends: the table and every
 * index the planner opens.
 */
export const TABLE_ESTIMATES_SQL = `
select n.nspname as schema, c.relname as name, c.reltuples::float8 as estimate, pg_relation_size(c.oid)::float8 as bytes,
  1 + (select count(*) from pg_index i where i.indrelid = c.oid)::int as locks
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and c.relpersistence <> 't'
  and ${USER_SCHEMAS}
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
order by 1, 2`

export const EXPORT_SNAPSHOT_SQL = `select pg_export_snapshot() as snapshot`

export const MAX_LOCKS_SQL = `select current_setting('max_locks_per_transaction')::int as max_locks`

/** The subtransaction each batch of counts runs in: rolling it back releases the batch's locks. */
const COUNT_SAVEPOINT = 'dbops_count'
const BEGIN_BATCH_SQL = `savepoint ${COUNT_SAVEPOINT}`
const END_BATCH_SQL = `rollback to savepoint ${COUNT_SAVEPOINT}; release savepoint ${COUNT_SAVEPOINT}`

/** One statement counting a batch of tables: `select 0 as i, count(*) from a union all ...`. */
const batchCountSql = (batch: Table[]) =>
  batch
    .map(
      (t, i) =>
        `select ${i} as i, count(*)::float8 as n from ${quoteIdent(t.schema)}.${quoteIdent(t.name)}`,
    )
    .join('\nunion all\n')

/** Never more bytes read by one batch than one big table was allowed before batching. */
const BATCH_BYTES = 64 * 1024 * 1024

interface Table {
  schema: string
  name: string
  estimate: number
  bytes: number
  locks: number
}

/**
 * Row counts of every table, as seen by pg_dump's own snapshot: exact (`count(*)`) where the
 * table is small, the planner's estimate otherwise. Verify compares a scratch restore with these.
 *
 * Locks taken by a query stay until its transaction ends, and the transaction must stay open
 * (it holds the snapshot pg_dump imports). Counting 5,000 tables in it would hold some 15,000
 * locks next to pg_dump's own 5,000, more than the server's shared lock table holds at the
 * default max_locks_per_transaction. So the counts run in batches, each in a subtransaction
 * rolled back once its numbers are read: that releases its locks and keeps the snapshot.
 * A batch takes at most half of max_locks_per_transaction locks, this session's own share.
 */
export async function countTables(
  client: SqlClient,
  exactBelow: number,
  signal: AbortSignal,
  warn: (message: string) => void = () => {},
): Promise<TableCount[]> {
  const listed = await client.query(TABLE_ESTIMATES_SQL).catch((error) => {
    throw explainSqlError(error, 'listing the tables to count')
  })
  const tables: Table[] = listed.rows.map((r) => ({
    schema: String(r.schema),
    name: String(r.name),
    estimate: Number(r.estimate),
    bytes: Number(r.bytes),
    locks: Number(r.locks),
  }))
  const maxLocks = Number(
    (
      await client.query(MAX_LOCKS_SQL).catch((error) => {
        throw explainSqlError(error, 'reading max_locks_per_transaction')
      })
    ).rows[0]!.max_locks,
  )
  const counts = new Map<Table, TableCount>()
  for (const t of tables)
    counts.set(t, {
      schema: t.schema,
      name: t.name,
      rows: Math.max(0, Math.round(t.estimate)),
      exact: false,
    })
  const small = tables.filter((t) =>
    t.estimate >= 0 ? t.estimate < exactBelow : t.bytes < BATCH_BYTES,
  )
  const estimated: Table[] = []
  for (const batch of batches(small, Math.max(1, Math.floor(maxLocks / 2)))) {
    signal.throwIfAborted()
    const rows = await countBatch(client, batch).catch((error: { code?: string }) => {
      if (error?.code !== '53200')
        throw explainSqlError(error, `counting the rows of ${describe(batch)}`)
      return undefined // the server is short of locks right now: keep the estimates of this batch
    })
    if (!rows) estimated.push(...batch)
    else
      for (const row of rows)
        counts.set(batch[Number(row.i)]!, {
          schema: batch[Number(row.i)]!.schema,
          name: batch[Number(row.i)]!.name,
          rows: Number(row.n),
          exact: true,
        })
  }
  if (estimated.length > 0) {
    warn(
      `the row counts of ${describe(estimated)} in the manifest are the planner's estimates: the server had no free lock slots to count them (out of shared memory, SQLSTATE 53200). The backup itself is complete; raise max_locks_per_transaction for exact counts.`,
    )
  }
  return tables.map((t) => counts.get(t)!)
}

async function countBatch(client: SqlClient, batch: Table[]): Promise<Record<string, unknown>[]> {
  await client.query(BEGIN_BATCH_SQL)
  let rows: Record<string, unknown>[]
  try {
    rows = (await client.query(batchCountSql(batch))).rows
  } catch (error) {
    await client.query(END_BATCH_SQL).catch(() => {}) // the session may be gone: the count's error says why
    throw error
  }
  await client.query(END_BATCH_SQL)
  return rows
}

/** Consecutive batches of at most `lockBudget` locks and BATCH_BYTES bytes (a table over either: alone). */
function batches(tables: Table[], lockBudget: number): Table[][] {
  const out: Table[][] = []
  let current: Table[] = []
  let locks = 0
  let bytes = 0
  for (const t of tables) {
    if (current.length > 0 && (locks + t.locks > lockBudget || bytes + t.bytes > BATCH_BYTES)) {
      out.push(current)
      current = []
      locks = 0
      bytes = 0
    }
    current.push(t)
    locks += t.locks
    bytes += t.bytes
  }
  if (current.length > 0) out.push(current)
  return out
}

const describe = (tables: Table[]) =>
  tables.length === 1
    ? `${tables[0]!.schema}.${tables[0]!.name}`
    : `${tables.length} tables (${tables
        .slice(0, 3)
        .map((t) => `${t.schema}.${t.name}`)
        .join(', ')}${tables.length > 3 ? ', …' : ''})`

/** Exact row counts of the same tables in another database (a scratch or restored copy). */
export async function compareCounts(
  client: SqlClient,
  expected: TableCount[],
): Promise<{ ok: boolean; lines: string[]; compared: number }> {
  const lines: string[] = []
  let ok = true
  let compared = 0
  const present = new Set(
    (await client.query(TABLE_ESTIMATES_SQL)).rows.map(
      (r) => `${String(r.schema)}.${String(r.name)}`,
    ),
  )
  for (const table of expected) {
    const label = `${table.schema}.${table.name}`
    if (!present.has(label)) {
      ok = false
      lines.push(`${label}: missing after restore`)
      continue
    }
    const { rows } = await client.query(
      `select count(*)::float8 as n from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`,
    )
    const actual = Number(rows[0]!.n)
    compared++
    if (table.exact !== false) {
      if (actual !== table.rows) {
        ok = false
        lines.push(`${label}: ${actual} rows restored, ${table.rows} at backup time`)
      }
    } else if (Math.abs(actual - table.rows) > Math.max(1000, table.rows * 0.2)) {
      lines.push(
        `${label}: ${actual} rows restored, about ${table.rows} estimated at backup time (estimate, not compared strictly)`,
      )
    }
  }
  return { ok, lines, compared }
}
