import { USER_SCHEMAS } from 'dbops/plugin'
import { defineCheck, num } from './define-check.ts'
import { readConstraintDefinitions } from './constraint-definition.ts'

/**
 * Constraints added NOT VALID and never validated. Catalogs only (pg_get_constraintdef
 * would open the table): the definitions are written in JS afterwards. A domain's
 * constraint has no table and is named by its domain.
 */
export const NOT_VALID_CONSTRAINTS_SQL = `
select case when c.conrelid <> 0 then c.conrelid::regclass::text else format_type(c.contypid, null) end as "table", c.conname, c.oid::int8::text as oid, c.contype as kind,
       count(*) over ()::int as total
from pg_constraint c
join pg_namespace n on n.oid = c.connamespace
where not c.convalidated and c.contype in ('c', 'f') and ${USER_SCHEMAS}
order by 1, 2
limit $1`

const KINDS: Record<'c' | 'f', string> = { c: 'check', f: 'foreign key' }

export const notValidConstraintsCheck = defineCheck({
  id: 'not_valid_constraints',
  title: 'NOT VALID constraints',
  unit: 'count',
  defaults: { warning: 1, critical: null },
  source: 'pghero invalid_constraints; pg-index-health; any → warning',
  hint: 'Rows written before the constraint was added were never checked: ALTER TABLE <table> VALIDATE CONSTRAINT <name> (takes only a SHARE UPDATE EXCLUSIVE lock).',
  run: async (check) => {
    const rows = await check.sql<{
      table: string
      conname: string
      oid: string
      kind: 'c' | 'f'
      total: number
    }>(NOT_VALID_CONSTRAINTS_SQL, [check.limit])
    const total = num(rows[0]?.total)
    const definitions = await readConstraintDefinitions(
      check,
      rows.map((r) => ({ oid: String(r.oid), kind: r.kind })),
    )
    return {
      value: total,
      findings: rows.map((r) => {
        const def = definitions.get(String(r.oid))
        return {
          object: `${r.table}.${r.conname}`,
          value: 1,
          detail: `${KINDS[r.kind]}: ${def?.text ?? '?'}${def?.withheld ? ` (${def.withheld})` : ''}`,
        }
      }),
      total,
      message: total
        ? `${total} constraint(s) never validated: ${rows
            .map((r) => `${r.table}.${r.conname}`)
            .slice(0, 3)
            .join(', ')}`
        : 'every constraint is validated',
    }
  },
})

/** Disabled triggers, the internal ones of foreign keys included (ALTER TABLE ... DISABLE TRIGGER ALL turns referential integrity off). */
export const DISABLED_TRIGGERS_SQL = `
select t.tgrelid::regclass::text as "table", t.tgname, t.tgisinternal,
       case when t.tgconstraint <> 0 then (select conname from pg_constraint where oid = t.tgconstraint) end as constraint_name,
       count(*) over ()::int as total
from pg_trigger t
join pg_class c on c.oid = t.tgrelid
join pg_namespace n on n.oid = c.relnamespace
where t.tgenabled = 'D' and ${USER_SCHEMAS}
order by t.tgisinternal desc, 1, 2
limit $1`

export const disabledTriggersCheck = defineCheck({
  id: 'disabled_triggers',
  title: 'disabled triggers',
  unit: 'count',
  defaults: { warning: 1, critical: 1 },
  source: 'check_postgres disabled_triggers 1 / 1',
  hint: 'A trigger left disabled after a data load or a migration: ALTER TABLE <table> ENABLE TRIGGER <name> (or ENABLE TRIGGER ALL), or drop it if it is obsolete.',
  run: async ({ sql, limit }) => {
    const rows = await sql(DISABLED_TRIGGERS_SQL, [limit])
    const total = num(rows[0]?.total)
    return {
      value: total,
      findings: rows.map((r) => ({
        object: `${r.table}.${r.tgname}`,
        value: 1,
        detail: r.tgisinternal
          ? `internal trigger of constraint ${r.constraint_name ?? '?'}: referential integrity is not enforced`
          : 'disabled',
      })),
      total,
      message: total
        ? `${total} disabled trigger(s): ${rows
            .map((r) => `${r.table}.${r.tgname}`)
            .slice(0, 3)
            .join(', ')}`
        : 'no disabled trigger',
    }
  },
})
