import type { CheckContext } from '../types.ts'
import { LOCKED_RELATIONS_CTE } from './locked-relations.ts'
import { optionalRows } from './optional-rows.ts'

/**
 * What `pg_get_constraintdef()` prints for a foreign key, read from the catalogs alone.
 * Column names are quoted and the referenced table is named as regclass names it
 * (schema-qualified when not on the search_path), as pg_get_constraintdef() does.
 */
export const FOREIGN_KEY_FACTS_SQL = `
select c.oid::int8::text as oid, c.confrelid::regclass::text as parent,
       c.confmatchtype as match, c.confupdtype as on_update, c.confdeltype as on_delete,
       c.condeferrable as deferrable, c.condeferred as deferred, c.convalidated as validated,
       array(select quote_ident(a.attname) from unnest(c.conkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum order by k.ord) as columns,
       array(select quote_ident(a.attname) from unnest(c.confkey) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum order by k.ord) as parent_columns,
       -- confdelsetcols (ON DELETE SET NULL (cols)) is new in PostgreSQL 15: read through jsonb so 14 runs this too.
       array(select quote_ident(a.attname)
             from jsonb_array_elements_text(case when jsonb_typeof(to_jsonb(c) -> 'confdelsetcols') = 'array' then to_jsonb(c) -> 'confdelsetcols' else '[]' end) with ordinality k(attnum, ord)
             join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum::int2 order by k.ord) as delete_set_columns
from pg_constraint c
where c.oid = any($1::oid[]) and c.contype = 'f'`

/** The parts of a CHECK constraint the catalogs hold, and whether its table is locked (pg_get_expr would wait). */
export const CHECK_FACTS_SQL = `
with ${LOCKED_RELATIONS_CTE}
select c.oid::int8::text as oid, c.connoinherit as noinherit, c.convalidated as validated,
       case when c.conrelid in (select relation from locked) then quote_ident(n.nspname) || '.' || quote_ident(t.relname) end as locked,
       coalesce(quote_ident(n.nspname) || '.' || quote_ident(t.relname), format_type(c.contypid, null)) as owner
from pg_constraint c
left join pg_class t on t.oid = c.conrelid
left join pg_namespace n on n.oid = t.relnamespace
where c.oid = any($1::oid[]) and c.contype = 'c'`

/**
 * The texts of CHECK expressions, which only the server's deparser can write, and it opens
 * the table to do so: asked only for tables nobody holds or waits for ACCESS EXCLUSIVE (a
 * domain's constraint has no table).
 */
export const CHECK_EXPRESSION_TEXTS_SQL = `
with ${LOCKED_RELATIONS_CTE}
select c.oid::int8::text as oid, pg_get_expr(c.conbin, c.conrelid) as expression
from pg_constraint c
where c.oid = any($1::oid[]) and c.contype = 'c' and c.conrelid not in (select relation from locked)`

export interface ForeignKeyFacts {
  oid: string
  parent: string
  match: 'f' | 'p' | 's'
  on_update: string
  on_delete: string
  deferrable: boolean
  deferred: boolean
  validated: boolean
  columns: string[]
  parent_columns: string[]
  delete_set_columns: string[]
}

export interface ConstraintDefinition {
  text: string
  /** Why the expression is shown as a placeholder. */
  withheld?: string
}

const ACTIONS: Record<string, string | undefined> = {
  r: 'RESTRICT',
  c: 'CASCADE',
  n: 'SET NULL',
  d: 'SET DEFAULT',
}
const MATCHES: Record<string, string> = { f: ' MATCH FULL', p: ' MATCH PARTIAL' }

function trailer(f: { deferrable?: boolean; deferred?: boolean; validated: boolean }): string {
  return `${f.deferrable ? ' DEFERRABLE' : ''}${f.deferred ? ' INITIALLY DEFERRED' : ''}${f.validated ? '' : ' NOT VALID'}`
}

/** `FOREIGN KEY (a) REFERENCES parent(id) [MATCH FULL] [ON UPDATE ..] [ON DELETE .. [(cols)]] [DEFERRABLE] [INITIALLY DEFERRED] [NOT VALID]`. */
export function formatForeignKey(f: ForeignKeyFacts): string {
  let text = `FOREIGN KEY (${f.columns.join(', ')}) REFERENCES ${f.parent}(${f.parent_columns.join(', ')})${MATCHES[f.match] ?? ''}`
  if (ACTIONS[f.on_update]) text += ` ON UPDATE ${ACTIONS[f.on_update]}`
  if (ACTIONS[f.on_delete]) text += ` ON DELETE ${ACTIONS[f.on_delete]}`
  if (f.delete_set_columns.length) text += ` (${f.delete_set_columns.join(', ')})`
  return text + trailer(f)
}

/** `CHECK (expression) [NO INHERIT] [NOT VALID]`; the expression comes from pg_get_expr() (already parenthesized). */
export function formatCheck(f: {
  expression: string | null
  noinherit: boolean
  validated: boolean
}): string {
  return `CHECK (${f.expression ?? '<expression>'})${f.noinherit ? ' NO INHERIT' : ''}${trailer(f)}`
}

/**
 * Definitions of these foreign key and CHECK constraints, by oid, without waiting for any
 * lock. Must run inside the check's transaction (the CHECK texts are read in a savepoint).
 */
export async function readConstraintDefinitions(
  check: Pick<CheckContext, 'sql' | 'ctx'>,
  constraints: { oid: string; kind: 'f' | 'c' }[],
): Promise<Map<string, ConstraintDefinition>> {
  const out = new Map<string, ConstraintDefinition>()
  const fks = constraints.filter((c) => c.kind === 'f').map((c) => c.oid)
  const checks = constraints.filter((c) => c.kind === 'c').map((c) => c.oid)
  if (fks.length)
    for (const f of await check.sql<ForeignKeyFacts>(FOREIGN_KEY_FACTS_SQL, [fks]))
      out.set(f.oid, { text: formatForeignKey(f) })
  if (checks.length) {
    const facts = await check.sql<{
      oid: string
      noinherit: boolean
      validated: boolean
      locked: string | null
      owner: string
    }>(CHECK_FACTS_SQL, [checks])
    const unlocked = facts.filter((f) => !f.locked).map((f) => f.oid)
    const rows = unlocked.length
      ? await optionalRows<{ oid: string; expression: string }>(check, CHECK_EXPRESSION_TEXTS_SQL, [
          unlocked,
        ])
      : []
    const texts = new Map((rows ?? []).map((r) => [r.oid, r.expression]))
    for (const f of facts) {
      const expression = texts.get(f.oid) ?? null
      const withheld = f.locked
        ? `the expression is not shown: ${f.locked} is locked by another session`
        : expression === null
          ? `the expression is not shown: another session took a lock on ${f.owner} while it was read`
          : undefined
      out.set(f.oid, { text: formatCheck({ ...f, expression }), ...(withheld ? { withheld } : {}) })
    }
  }
  return out
}
