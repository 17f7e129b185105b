import { USER_SCHEMAS } from 'dbops/plugin'
import { defineCheck, num } from './define-check.ts'

/**
 * Invalid indexes, except ones a CREATE INDEX / REINDEX CONCURRENTLY is building right now
 * (pg_stat_progress_create_index names the index or, for REINDEX, its table).
 */
export const INVALID_INDEXES_SQL = `
select i.indexrelid::regclass::text as index, i.indrelid::regclass::text as "table", c.relname,
       c.relpages::bigint * current_setting('block_size')::int as bytes, i.indisunique,
       count(*) over ()::int as total
from pg_index i
join pg_class c on c.oid = i.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where not i.indisvalid and ${USER_SCHEMAS}
  and not exists (
    select 1 from pg_stat_progress_create_index p
    where p.index_relid = i.indexrelid
       or (p.relid = i.indrelid and p.command in ('CREATE INDEX CONCURRENTLY', 'REINDEX CONCURRENTLY')))
order by c.relpages desc
limit $1`

/** Where an invalid index comes from, by the names the server and pg_repack give them. */
export function invalidIndexOrigin(name: string): string {
  if (/_ccnew\d*$/.test(name))
    return 'left by a failed REINDEX CONCURRENTLY: drop it, then retry the reindex'
  if (/_ccold\d*$/.test(name))
    return 'old copy left by a REINDEX CONCURRENTLY whose swap succeeded: drop it'
  if (/^index_\d+$/.test(name)) return 'left by an interrupted pg_repack: drop it'
  return 'a failed CREATE INDEX CONCURRENTLY (or REINDEX): drop it and create it again'
}

export const invalidIndexesCheck = defineCheck({
  id: 'invalid_indexes',
  title: 'invalid indexes',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero / pgwatch: any invalid index (skipping ones being built now) → warning',
  hint: 'An invalid index is never used by queries but is still updated on every write. DROP INDEX CONCURRENTLY it, then rebuild it (CREATE INDEX CONCURRENTLY / REINDEX INDEX CONCURRENTLY).',
  run: async ({ sql, limit }) => {
    const rows = await sql(INVALID_INDEXES_SQL, [limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: String(r.index),
        value: 1,
        detail: `on ${r.table}${r.indisunique ? ' (unique: uniqueness is NOT enforced)' : ''}; ${invalidIndexOrigin(String(r.relname))}`,
      })),
      total,
      message: total
        ? `${total} invalid index(es): ${rows
            .map((r) => r.index)
            .slice(0, 3)
            .join(', ')}`
        : 'no invalid index',
    }
  },
})
