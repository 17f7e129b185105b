import type { CheckContext } from '../types.ts'
import { LOCKED_RELATIONS_CTE } from './locked-relations.ts'
import { optionalRows } from './optional-rows.ts'

/**
 * What `pg_get_indexdef()` prints, read from the catalogs alone. pg_get_indexdef() opens
 * the table (AccessShareLock in PostgreSQL 15), so it waits behind any migration holding
 * ACCESS EXCLUSIVE; these catalog reads never wait. Names are quoted as PostgreSQL quotes
 * them; the table is always schema-qualified, as pg_get_indexdef() does.
 */
export const INDEX_FACTS_SQL = `
select i.indexrelid::int8::text as oid,
       quote_ident(ic.relname) as name,
       quote_ident(tn.nspname) || '.' || quote_ident(tc.relname) as "table",
       ic.relkind = 'I' as partitioned,
       i.indisunique as "unique",
       quote_ident(am.amname) as method,
       coalesce(pg_indexam_has_property(ic.relam, 'can_order'), false) as can_order,
       i.indnkeyatts as key_count,
       -- indnullsnotdistinct is new in PostgreSQL 15: read through jsonb so 14 runs this too.
       coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::bool, false) as nulls_not_distinct,
       i.indpred is not null as has_predicate,
       (select string_agg(split_part(o, '=', 1) || '=' || case when quote_ident(v) = v then v else quote_literal(v) end, ', ')
          from unnest(ic.reloptions) o, substr(o, strpos(o, '=') + 1) v) as options,
       (select json_agg(json_build_object(
                 'name', quote_ident(a.attname),
                 'key', k.n <= i.indnkeyatts,
                 'desc', coalesce(i.indoption[k.n - 1] & 1 = 1, false),
                 'nullsFirst', coalesce(i.indoption[k.n - 1] & 2 = 2, false),
                 'opclass', case when not opc.opcdefault or ia.attoptions is not null then
                              case when pg_opclass_is_visible(opc.oid) then '' else quote_ident(opcn.nspname) || '.' end || quote_ident(opc.opcname) end,
                 'opclassOptions', (select string_agg(split_part(o, '=', 1) || '=' || case when quote_ident(v) = v then v else quote_literal(v) end, ', ')
                                      from unnest(ia.attoptions) o, substr(o, strpos(o, '=') + 1) v),
                 -- pg_get_indexdef compares with the expression's collation; the type's default stands in for it.
                 'collation', case when coll.oid is not null and coll.oid <> coalesce(a.attcollation, ty.typcollation) then
                                case when pg_collation_is_visible(coll.oid) then '' else quote_ident(colln.nspname) || '.' end || quote_ident(coll.collname) end
               ) order by k.n)
          from generate_series(1, i.indnatts) k(n)
          join pg_attribute ia on ia.attrelid = i.indexrelid and ia.attnum = k.n
          join pg_type ty on ty.oid = ia.atttypid
          left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[k.n - 1] and i.indkey[k.n - 1] <> 0
          left join pg_opclass opc on k.n <= i.indnkeyatts and opc.oid = i.indclass[k.n - 1]
          left join pg_namespace opcn on opcn.oid = opc.opcnamespace
          left join pg_collation coll on k.n <= i.indnkeyatts and coll.oid = nullif(i.indcollation[k.n - 1], 0)
          left join pg_namespace colln on colln.oid = coll.collnamespace) as columns
from pg_index i
join pg_class ic on ic.oid = i.indexrelid
join pg_am am on am.oid = ic.relam
join pg_class tc on tc.oid = i.indrelid
join pg_namespace tn on tn.oid = tc.relnamespace
where i.indexrelid = any($1::oid[])`

/**
 * The texts of index expressions and predicates, which only the server's deparser can
 * write, and it opens the table to do so. Asked only for relations nobody holds or waits
 * for ACCESS EXCLUSIVE; for the others, `locked` names the relation and no text is read.
 */
export const INDEX_EXPRESSION_TEXTS_SQL = `
with ${LOCKED_RELATIONS_CTE}
select oid, locked,
       case when locked is null then array(select pg_get_indexdef(indexrelid, k, false) from generate_series(1, indnkeyatts) k where indkey[k - 1] = 0 order by k) end as expressions,
       case when locked is null then pg_get_expr(indpred, indrelid) end as predicate
from (
  select i.indexrelid::int8::text as oid, i.indexrelid, i.indrelid, i.indkey, i.indnkeyatts, i.indpred,
         case when i.indrelid in (select relation from locked) then quote_ident(tn.nspname) || '.' || quote_ident(tc.relname)
              when i.indexrelid in (select relation from locked) then quote_ident(tn.nspname) || '.' || quote_ident(ic.relname) end as locked
  from pg_index i
  join pg_class ic on ic.oid = i.indexrelid
  join pg_class tc on tc.oid = i.indrelid
  join pg_namespace tn on tn.oid = tc.relnamespace
  where i.indexrelid = any($1::oid[]) and (i.indexprs is not null or i.indpred is not null)
) i`

interface IndexColumn {
  /** Null for an expression column. */
  name: string | null
  key: boolean
  desc: boolean
  nullsFirst: boolean
  opclass: string | null
  opclassOptions: string | null
  collation: string | null
}

export interface IndexFacts {
  oid: string
  name: string
  table: string
  partitioned: boolean
  unique: boolean
  method: string
  can_order: boolean
  nulls_not_distinct: boolean
  has_predicate: boolean
  options: string | null
  columns: IndexColumn[]
}

export interface IndexTexts {
  /** The key expressions, in column order (pg_get_indexdef's column form: wrapped in parentheses unless a function call). */
  expressions: string[]
  predicate: string | null
}

export interface IndexDefinition {
  text: string
  /** Why expressions or the predicate are shown as placeholders. */
  withheld?: string
}

/** `CREATE [UNIQUE] INDEX name ON [ONLY] schema.table USING method (...) [INCLUDE (...)] [NULLS NOT DISTINCT] [WITH (...)] [WHERE ...]`, as pg_get_indexdef() writes it. */
export function formatIndexDefinition(facts: IndexFacts, texts?: IndexTexts): string {
  const expressions = [...(texts?.expressions ?? [])]
  const column = (c: IndexColumn) => {
    let out = c.name ?? expressions.shift() ?? '<expression>'
    if (!c.key) return out
    if (c.collation) out += ` COLLATE ${c.collation}`
    if (c.opclass) out += ` ${c.opclass}`
    if (c.opclassOptions) out += ` (${c.opclassOptions})`
    if (facts.can_order) {
      if (c.desc) out += c.nullsFirst ? ' DESC' : ' DESC NULLS LAST'
      else if (c.nullsFirst) out += ' NULLS FIRST'
    }
    return out
  }
  const keys = facts.columns.filter((c) => c.key).map(column)
  const included = facts.columns.filter((c) => !c.key).map(column)
  let text = `CREATE ${facts.unique ? 'UNIQUE ' : ''}INDEX ${facts.name} ON ${facts.partitioned ? 'ONLY ' : ''}${facts.table} USING ${facts.method} (${keys.join(', ')})`
  if (included.length) text += ` INCLUDE (${included.join(', ')})`
  if (facts.nulls_not_distinct) text += ' NULLS NOT DISTINCT'
  if (facts.options) text += ` WITH (${facts.options})`
  if (facts.has_predicate) text += ` WHERE ${texts?.predicate ?? '<predicate>'}`
  return text
}

/**
 * The definitions of these indexes, by oid, without waiting for any lock. Must run inside
 * the check's transaction (the expression texts are read in a savepoint).
 */
export async function readIndexDefinitions(
  check: Pick<CheckContext, 'sql' | 'ctx'>,
  oids: string[],
): Promise<Map<string, IndexDefinition>> {
  const out = new Map<string, IndexDefinition>()
  if (!oids.length) return out
  const facts = await check.sql<IndexFacts>(INDEX_FACTS_SQL, [oids])
  const needTexts = facts
    .filter((f) => f.has_predicate || f.columns.some((c) => c.name === null))
    .map((f) => f.oid)
  const rows = needTexts.length
    ? await optionalRows<IndexTexts & { oid: string; locked: string | null }>(
        check,
        INDEX_EXPRESSION_TEXTS_SQL,
        [needTexts],
      )
    : []
  const texts = new Map((rows ?? []).map((r) => [r.oid, r]))
  for (const f of facts) {
    const t = texts.get(f.oid)
    const parts = [
      f.columns.some((c) => c.name === null) ? 'expression' : '',
      f.has_predicate ? 'predicate' : '',
    ].filter(Boolean)
    const hidden = `the ${parts.join(' and ')} ${parts.length > 1 ? 'are' : 'is'} not shown`
    const withheld = !parts.length
      ? undefined
      : !rows || !t
        ? `${hidden}: another session took a lock on ${f.table} while it was read`
        : t.locked
          ? `${hidden}: ${t.locked} is locked by another session`
          : undefined
    out.set(f.oid, {
      text: formatIndexDefinition(f, t && !t.locked ? t : undefined),
      ...(withheld ? { withheld } : {}),
    })
  }
  return out
}
