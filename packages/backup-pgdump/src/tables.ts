import type { BackupManifest } from 'dbops/plugin'

/** A client in a transaction: the snapshot's session (pg.PoolClient's shape, kept minimal). */
export interface SqlClient {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>
}

export type TableCount = BackupManifest['tables'][number]

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

/** Ordinary tables and partitions (partitioned parents hold no rows of their own). */
export const TABLE_ESTIMATES_SQL = `
select n.nspname as schema, c.relname as name, c.reltuples::float8 as estimate, pg_relation_size(c.oid)::float8 as bytes
from pg_class c join pg_namespace n on n.oid = c.relnamespace
where c.relkind = 'r' and c.relpersistence <> 't'
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname !~ '^pg_(toast|temp)'
  and not exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
order by 1, 2`

export const EXPORT_SNAPSHOT_SQL = `select pg_export_snapshot() as snapshot`

/**
 * Row counts of every table, as seen by pg_dump's own snapshot: exact (`count(*)`) where the
 * table is small, the planner's estimate otherwise. Verify compares a scratch restore with these.
 */
export async function countTables(client: SqlClient, exactBelow: number, signal: AbortSignal): Promise<TableCount[]> {
  const { rows } = await client.query(TABLE_ESTIMATES_SQL)
  const out: TableCount[] = []
  for (const row of rows) {
    signal.throwIfAborted()
    const schema = String(row.schema)
    const name = String(row.name)
    const estimate = Number(row.estimate)
    const small = estimate >= 0 ? estimate < exactBelow : Number(row.bytes) < 64 * 1024 * 1024
    if (small) {
      const counted = await client.query(`select count(*)::float8 as n from ${quoteIdent(schema)}.${quoteIdent(name)}`)
      out.push({ schema, name, rows: Number(counted.rows[0]!.n), exact: true })
    } else out.push({ schema, name, rows: Math.max(0, Math.round(estimate)), exact: false })
  }
  return out
}

/** Exact row counts of the same tables in another database (a scratch or restored copy). */
export async function compareCounts(client: SqlClient, expected: TableCount[]): Promise<{ ok: boolean; lines: string[]; compared: number }> {
  const lines: string[] = []
  let ok = true
  let compared = 0
  const present = new Set((await client.query(TABLE_ESTIMATES_SQL)).rows.map((r) => `${String(r.schema)}.${String(r.name)}`))
  for (const table of expected) {
    const label = `${table.schema}.${table.name}`
    if (!present.has(label)) {
      ok = false
      lines.push(`${label}: missing after restore`)
      continue
    }
    const { rows } = await client.query(`select count(*)::float8 as n from ${quoteIdent(table.schema)}.${quoteIdent(table.name)}`)
    const actual = Number(rows[0]!.n)
    compared++
    if (table.exact !== false) {
      if (actual !== table.rows) {
        ok = false
        lines.push(`${label}: ${actual} rows restored, ${table.rows} at backup time`)
      }
    } else if (Math.abs(actual - table.rows) > Math.max(1000, table.rows * 0.2)) {
      lines.push(`${label}: ${actual} rows restored, about ${table.rows} estimated at backup time (estimate, not compared strictly)`)
    }
  }
  return { ok, lines, compared }
}
