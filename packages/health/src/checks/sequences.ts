import { z } from 'zod'
import { listingFloor } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'
import { LOCKED_SEQUENCES_CTE } from './locked-relations.ts'

/**
 * Every sequence with the column it feeds (owned: serial or identity). The limit is the
 * smaller of the sequence's max and the column type's max: a bigint sequence feeding an
 * integer column runs out at 2^31 - 1 (what tools using only pg_sequences miss).
 * last_value is read only where the role may read it and no session holds or waits for
 * a lock that pg_sequence_last_value() would queue behind (ALTER, DROP or RENAME of the
 * sequence), so this never waits for DDL. A lock on the table the sequence feeds does
 * not matter: only the sequence is read.
 */
export const SEQUENCES_SQL = `
with ${LOCKED_SEQUENCES_CTE}, seqs as (
  select s.seqrelid, s.seqmax, s.seqmin, s.seqincrement, s.seqcycle, s.seqtypid,
         col.tbl, col.attname, col.atttypid,
         has_sequence_privilege(s.seqrelid, 'SELECT,USAGE') as readable,
         s.seqrelid in (select relation from locked) as locked
  from pg_sequence s
  left join lateral (
    select d.refobjid::regclass::text as tbl, a.attname, a.atttypid
    from pg_depend d join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
    where d.classid = 'pg_class'::regclass and d.objid = s.seqrelid and d.refclassid = 'pg_class'::regclass
      and d.deptype in ('a', 'i') and d.refobjsubid > 0
    limit 1) col on true
  where not s.seqcycle or not $3::bool
), valued as (
  select seqs.*,
         case when readable and not locked then pg_sequence_last_value(seqrelid) end as last_value,
         case atttypid when 'int2'::regtype then 32767 when 'int4'::regtype then 2147483647 else 9223372036854775807 end::numeric as colmax,
         case atttypid when 'int2'::regtype then -32768 when 'int4'::regtype then -2147483648 else -9223372036854775808 end::numeric as colmin
  from seqs
), used as (
  select *,
         case when seqincrement > 0 then least(seqmax::numeric, colmax) else greatest(seqmin::numeric, colmin) end as lim,
         case when seqincrement > 0 then least(seqmax::numeric, colmax) < seqmax::numeric else greatest(seqmin::numeric, colmin) > seqmin::numeric end as column_limits
  from valued
), final as (
  select seqrelid::regclass::text as seq, tbl, attname, format_type(atttypid, null) as coltype, format_type(seqtypid, null) as seqtype,
         last_value::text as last_value, lim::text as lim, column_limits, readable, locked,
         case when last_value is null then 0
              when seqincrement > 0 then 100 * (last_value::numeric - seqmin::numeric) / nullif(lim - seqmin::numeric, 0)
              else 100 * (seqmax::numeric - last_value::numeric) / nullif(seqmax::numeric - lim, 0) end::float8 as pct
  from used
)
select (select count(*) from final)::int as total,
       (select count(*) from final where not readable)::int as unreadable,
       (select min(seq) from final where not readable) as unreadable_example,
       (select count(*) from final where readable and locked)::int as locked,
       (select min(seq) from final where readable and locked) as locked_example,
       (select count(*) from final where readable and not locked and pct >= $1)::int as over,
       (select json_agg(t) from (select * from final where readable and not locked order by pct desc nulls last limit $2) t) as top`

export const sequencesCheck = defineCheck({
  id: 'sequences',
  title: 'sequence and integer-column exhaustion',
  unit: 'percent',
  defaults: { warning: 85, critical: 95 },
  source: 'check_postgres sequence 85% / 95% (pghero warns at 90% of the column type max)',
  hint: 'Widen the column and its sequence to bigint before it runs out (ALTER TABLE ... ALTER COLUMN ... TYPE bigint; ALTER SEQUENCE ... AS bigint), or plan a rotation.',
  options: { skipCycled: z.boolean().default(true) },
  run: async ({ sql, options, limit, server }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const [row] = await sql(
      SEQUENCES_SQL.replace('$3::bool', options.skipCycled ? 'true' : 'false'),
      [floor, limit],
    )
    const top = (row?.top ?? []) as Record<string, unknown>[]
    const reasons = [
      num(row?.unreadable)
        ? `${row!.unreadable} sequence(s) not readable by ${server.user} (grant SELECT or USAGE on them, e.g. ${row!.unreadable_example})`
        : '',
      num(row?.locked)
        ? `${row!.locked} sequence(s) skipped: locked by another session (${row!.locked_example})`
        : '',
    ].filter(Boolean)
    const worst = top[0]
    return {
      value: worst ? num(worst.pct) : 0,
      findings: top
        .filter((r) => num(r.pct) >= floor)
        .map((r) => ({
          object: r.tbl ? `${r.seq} (${r.tbl}.${r.attname} ${r.coltype})` : String(r.seq),
          value: num(r.pct),
          detail: `last value ${r.last_value} of ${r.lim}${r.column_limits ? ` (limited by the ${r.coltype} column; the sequence is ${r.seqtype})` : ''}`,
        })),
      total: num(row?.over),
      message: worst
        ? `${row!.total} sequences; fullest ${worst.seq} at ${num(worst.pct).toFixed(2)}%`
        : `${row?.total ?? 0} sequences`,
      unknownReason: reasons.join('; ') || undefined,
    }
  },
})
