import { quoteIdent } from 'dbops/plugin'
import type { MigrationSession } from './session.ts'
import type { PreparedStatement } from './sql/prepare.ts'
import { literal } from './sql/quote.ts'

export interface InvalidIndex {
  /** `schema.index`, quoted where needed. */
  index: string
  table: string
}

/**
 * INVALID indexes on the given tables: what a failed or cancelled CREATE INDEX CONCURRENTLY
 * (or REINDEX CONCURRENTLY) leaves. Queries do not use them, every write maintains them. A
 * build still in progress in another session is INVALID too and is left out.
 */
const INVALID_INDEXES = (tables: string[]) => `
  select format('%I.%I', xn.nspname, x.relname) as index, format('%I.%I', tn.nspname, t.relname) as table
    from pg_index i
    join pg_class x on x.oid = i.indexrelid join pg_namespace xn on xn.oid = x.relnamespace
    join pg_class t on t.oid = i.indrelid join pg_namespace tn on tn.oid = t.relnamespace
   where not i.indisvalid
     and i.indrelid in (select to_regclass(name) from unnest(array[${tables.map(literal).join(', ')}]::text[]) as name)
     and not exists (select 1 from pg_stat_progress_create_index p where p.index_relid = i.indexrelid)
   order by 1`

/** The INVALID indexes on the tables a file's CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY statements work on. */
export async function invalidIndexesOf(
  session: MigrationSession,
  statements: PreparedStatement[],
): Promise<InvalidIndex[]> {
  const tables = new Set<string>()
  for (const s of statements) {
    const rel = s.node.IndexStmt?.concurrent
      ? s.node.IndexStmt.relation
      : s.node.ReindexStmt?.relation
    if (rel?.relname)
      tables.add(
        rel.schemaname
          ? `${quoteIdent(rel.schemaname)}.${quoteIdent(rel.relname)}`
          : quoteIdent(rel.relname),
      )
  }
  if (!tables.size) return []
  return session.run<InvalidIndex[]>(INVALID_INDEXES([...tables]))
}
