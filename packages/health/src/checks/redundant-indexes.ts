import { formatBytes, USER_SCHEMAS } from 'dbops/plugin'
import { defineCheck, num } from './define-check.ts'
import { readIndexDefinitions } from './index-definition.ts'

/**
 * Indexes made redundant by another index of the same table (pghero's rule): both valid,
 * same access method, expressions and predicate; the redundant one's key columns and
 * operator classes are a leading prefix of the other's, and it is neither the primary key
 * nor a unique index the other does not replace. Exact twins: the newer one is reported.
 *
 * Catalogs only, so it never waits behind a migration's lock: expressions and predicates
 * are compared as their stored node trees (pg_get_expr would open the table), without the
 * `:location` fields, which only say where in its CREATE INDEX statement each one was typed.
 */
export const DUPLICATE_INDEXES_SQL = `
with idx as (
  select i.indexrelid, i.indrelid, i.indkey::text as keys, i.indclass::text as ops, i.indcollation::text as colls,
         i.indnkeyatts, i.indnatts, i.indisunique, i.indisprimary, c.relam, c.relpages,
         coalesce(regexp_replace(i.indexprs::text, ' :location -?[0-9]+', '', 'g'), '') as exprs,
         coalesce(regexp_replace(i.indpred::text, ' :location -?[0-9]+', '', 'g'), '') as pred
  from pg_index i
  join pg_class c on c.oid = i.indexrelid
  join pg_namespace n on n.oid = c.relnamespace
  where i.indisvalid and ${USER_SCHEMAS}
), pairs as (
  select a.indexrelid as redundant, b.indexrelid as covering, a.relpages, a.keys = b.keys as exact,
         row_number() over (partition by a.indexrelid order by b.indisprimary desc, b.indisunique desc, b.indexrelid) as rn
  from idx a
  join idx b on a.indrelid = b.indrelid and a.indexrelid <> b.indexrelid and a.relam = b.relam
            and a.exprs = b.exprs and a.pred = b.pred
  where a.indnkeyatts = a.indnatts
    and (b.keys = a.keys or b.keys like a.keys || ' %')
    and (b.ops = a.ops or b.ops like a.ops || ' %')
    and (b.colls = a.colls or b.colls like a.colls || ' %')
    and not a.indisprimary
    and (not a.indisunique or (b.indisunique and a.keys = b.keys))
    and (a.keys <> b.keys or b.indisprimary or (b.indisunique and not a.indisunique)
         or (a.indisunique = b.indisunique and a.indexrelid > b.indexrelid))
)
select redundant::regclass::text as index, covering::regclass::text as covered_by, covering::int8::text as covering_oid, exact,
       relpages::bigint * current_setting('block_size')::int as bytes,
       count(*) over ()::int as total
from pairs where rn = 1
order by relpages desc
limit $1`

export const duplicateIndexesCheck = defineCheck({
  id: 'duplicate_indexes',
  title: 'duplicate and redundant indexes',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero duplicate_indexes (prefix rule); pg-index-health; any → warning',
  hint: 'The listed index is covered by the other one: DROP INDEX CONCURRENTLY it (check it is not referenced by name in hints or constraints first).',
  run: async (check) => {
    const rows = await check.sql(DUPLICATE_INDEXES_SQL, [check.limit])
    const total = num(rows[0]?.total)
    const definitions = await readIndexDefinitions(check, [
      ...new Set(rows.map((r) => String(r.covering_oid))),
    ])
    return {
      value: total,
      findings: rows.map((r) => {
        const covering = definitions.get(String(r.covering_oid))
        const withheld = covering?.withheld ? `; ${covering.withheld}` : ''
        return {
          object: String(r.index),
          value: 1,
          detail: `${r.exact ? 'same columns as' : 'a prefix of'} ${r.covered_by} (${covering?.text ?? '?'}); ${formatBytes(num(r.bytes))} to reclaim${withheld}`,
        }
      }),
      total,
      message: total
        ? `${total} redundant index(es): ${rows
            .map((r) => `${r.index} (covered by ${r.covered_by})`)
            .slice(0, 3)
            .join(', ')}`
        : 'no redundant index',
    }
  },
})
