import { USER_SCHEMAS } from 'dbops/plugin'
import { z } from 'zod'
import { defineCheck, num } from './define-check.ts'

/**
 * Foreign keys whose columns are not the leading columns of any valid, non-partial index
 * of the referencing table: deleting or updating a parent row scans the whole child table.
 */
export const FK_WITHOUT_INDEX_SQL = `
select f.conrelid::regclass::text as "table", f.conname, f.confrelid::regclass::text as parent,
       (select string_agg(quote_ident(a.attname), ', ' order by k.ord)
          from unnest(f.conkey) with ordinality k(attnum, ord)
          join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) as columns,
       c.reltuples::bigint as rows,
       count(*) over ()::int as total
from pg_constraint f
join pg_class c on c.oid = f.conrelid
join pg_namespace n on n.oid = c.relnamespace
where f.contype = 'f' and ${USER_SCHEMAS} and greatest(c.reltuples, 0) >= $1
  and not exists (
    select 1 from pg_index i
    where i.indrelid = f.conrelid and i.indisvalid and i.indpred is null
      and (string_to_array(i.indkey::text, ' ')::int2[])[1:cardinality(f.conkey)] @> f.conkey)
order by c.reltuples desc
limit $2`

export const fkWithoutIndexCheck = defineCheck({
  id: 'fk_without_index',
  title: 'foreign keys without an index',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pg-index-health foreign_keys_without_index; postgres-checkup H003; any → warning',
  hint: 'CREATE INDEX CONCURRENTLY ON <table> (<columns>): without it, every delete or key update of the parent scans the child table.',
  options: { minRows: z.number().nonnegative().default(0) },
  run: async ({ sql, options, limit }) => {
    const rows = await sql(FK_WITHOUT_INDEX_SQL, [options.minRows, limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: `${r.table}.${r.conname}`,
        value: 1,
        detail: `(${r.columns}) references ${r.parent}; suggested: CREATE INDEX CONCURRENTLY ON ${r.table} (${r.columns})`,
      })),
      total,
      message: total
        ? `${total} foreign key(s) without a supporting index: ${rows
            .map((r) => `${r.table}(${r.columns})`)
            .slice(0, 3)
            .join(', ')}`
        : 'every foreign key has an index',
    }
  },
})
