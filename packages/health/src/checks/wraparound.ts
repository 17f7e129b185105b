import { listingFloor } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'

/** 2^31: the distance at which transaction ids (and multixact ids) wrap around. */
export const WRAP_LIMIT = 2 ** 31

/** Databases and this database's tables (TOAST included), oldest first, in percent of 2^31. */
export const XID_AGE_SQL = `
(select 'database ' || quote_ident(datname) as object, age(datfrozenxid)::float8 as age, null::text as detail
   from pg_database where datallowconn and age(datfrozenxid) >= $1)
union all
(select c.oid::regclass::text, greatest(age(c.relfrozenxid), age(t.relfrozenxid))::float8,
        case when age(t.relfrozenxid) > age(c.relfrozenxid) then 'its TOAST table is the oldest part' end
   from pg_class c left join pg_class t on t.oid = c.reltoastrelid
   where c.relkind in ('r', 'm') and greatest(age(c.relfrozenxid), age(t.relfrozenxid)) >= $1
   order by 2 desc limit $2)
order by age desc`

export const MXID_AGE_SQL = `
(select 'database ' || quote_ident(datname) as object, mxid_age(datminmxid)::float8 as age, null::text as detail
   from pg_database where datallowconn and mxid_age(datminmxid) >= $1)
union all
(select c.oid::regclass::text, greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid))::float8, null
   from pg_class c left join pg_class t on t.oid = c.reltoastrelid
   where c.relkind in ('r', 'm') and greatest(mxid_age(c.relminmxid), mxid_age(t.relminmxid)) >= $1
   order by 2 desc limit $2)
order by age desc`

export const MAX_AGE_SQL = `
select (select max(age(datfrozenxid)) from pg_database where datallowconn)::float8 as xid,
       (select max(mxid_age(datminmxid)) from pg_database where datallowconn)::float8 as mxid`

function wraparoundCheck(kind: 'xid' | 'mxid') {
  const what = kind === 'xid' ? 'transaction id' : 'multixact id'
  return defineCheck({
    id: kind === 'xid' ? 'xid_wraparound' : 'mxid_wraparound',
    title: `${what} wraparound`,
    unit: 'percent',
    defaults: { warning: 50, critical: 75 },
    source:
      kind === 'xid'
        ? 'research goal G1: 50%/75% of 2^31 (check_postgres txn_wraparound 1.3B/1.4B = 61%/65%; pghero per table, TOAST included)'
        : 'postgres_exporter/pgwatch export mxid_age(datminmxid) without a threshold; dbops uses the XID limits (pghero and check_postgres have no check)',
    hint:
      kind === 'xid'
        ? 'Autovacuum is not freezing fast enough: find what holds it back (long transactions, replication slots, prepared transactions), then VACUUM (FREEZE, VERBOSE) the listed tables.'
        : 'Multixacts come from row locks shared by several transactions (SELECT ... FOR SHARE, foreign keys): VACUUM (FREEZE) the listed tables; lower autovacuum_multixact_freeze_max_age.',
    run: async ({ sql, options, limit }) => {
      const floorPct = listingFloor(options.warning, options.critical) ?? 0
      const [max] = await sql(MAX_AGE_SQL)
      const rows = await sql(kind === 'xid' ? XID_AGE_SQL : MXID_AGE_SQL, [
        Math.floor((floorPct / 100) * WRAP_LIMIT),
        limit,
      ])
      const worst = num(kind === 'xid' ? max?.xid : max?.mxid)
      const pct = (worst / WRAP_LIMIT) * 100
      return {
        value: pct,
        findings: rows.map((r) => ({
          object: String(r.object),
          value: (num(r.age) / WRAP_LIMIT) * 100,
          detail: `age ${Math.round(num(r.age)).toLocaleString('en-US')}${r.detail ? `; ${r.detail}` : ''}`,
        })),
        message: `oldest ${what} age ${Math.round(worst).toLocaleString('en-US')} (${pct.toFixed(1)}% of the 2^31 limit)`,
      }
    },
  })
}

export const xidWraparoundCheck = wraparoundCheck('xid')
export const mxidWraparoundCheck = wraparoundCheck('mxid')
