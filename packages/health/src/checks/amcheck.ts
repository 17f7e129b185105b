import { USER_SCHEMAS } from 'dbops/plugin'
import { z } from 'zod'
import { parseThreshold } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'
import { LOCKED_RELATIONS_CTE } from './locked-relations.ts'

/**
 * A sample of btree indexes to verify: the ones named in the config, else valid btree
 * indexes up to maxIndexSize, in random order so that successive runs cover the schema.
 * Indexes whose table or index someone holds (or waits for) ACCESS EXCLUSIVE are returned
 * flagged, so they are reported "not checked" instead of queueing behind the DDL.
 */
export const AMCHECK_CANDIDATES_SQL = `
with ${LOCKED_RELATIONS_CTE}
select i.indexrelid::regclass::text as index, i.indexrelid::int8 as oid, i.indrelid::regclass::text as "table",
       c.relpages::bigint * current_setting('block_size')::int as bytes,
       (i.indexrelid in (select relation from locked) or i.indrelid in (select relation from locked)) as locked
from pg_index i
join pg_class c on c.oid = i.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where c.relam = (select oid from pg_am where amname = 'btree') and i.indisvalid and i.indisready and c.relpersistence <> 't'
  and ${USER_SCHEMAS}
  and case when cardinality($1::text[]) > 0 then i.indexrelid::regclass::text = any($1::text[]) or c.relname = any($1::text[])
           else c.relpages::bigint * current_setting('block_size')::int <= $2 end
order by random()
limit $3`

export const BT_INDEX_CHECK_SQL = 'select bt_index_check($1::regclass, $2::bool)'

export const amcheckCheck = defineCheck({
  id: 'amcheck',
  title: 'btree index corruption (amcheck)',
  unit: 'count',
  defaults: { warning: null, critical: 1 },
  source:
    'amcheck bt_index_check (AccessShareLock only): any corruption → critical; no monitoring tool runs it',
  hint: 'amcheck found a corrupt index: REINDEX INDEX CONCURRENTLY it, then find the cause (storage, a collation change after an OS upgrade, a known bug) before trusting the data.',
  options: {
    /** Verify these indexes (names) instead of a random sample. */
    indexes: z.array(z.string()).default([]),
    /** Indexes per run. */
    sample: z.number().int().positive().default(10),
    maxIndexSize: z.union([z.number(), z.string()]).default('100MB'),
    /** Also verify that every heap tuple is in the index (several times slower). */
    heapAllIndexed: z.boolean().default(false),
    /** Skip indexes locked ACCESS EXCLUSIVE by another session (else wait up to lock_timeout). */
    skipLocked: z.boolean().default(true),
  },
  run: async ({ sql, server, options, remainingMs }) => {
    if (!server.extensions.has('amcheck'))
      return {
        status: 'skipped',
        message:
          'the amcheck extension is not installed in this database (CREATE EXTENSION amcheck)',
      }
    const candidates = await sql(AMCHECK_CANDIDATES_SQL, [
      options.indexes,
      parseThreshold(options.maxIndexSize, 'bytes'),
      options.indexes.length || options.sample,
    ])
    const findings = []
    const notChecked: string[] = []
    let checked = 0
    for (const c of candidates) {
      if (remainingMs() < 200) {
        notChecked.push(`${c.index} (time budget spent)`)
        continue
      }
      if (c.locked && options.skipLocked) {
        notChecked.push(`${c.index} (locked by another session)`)
        continue
      }
      await sql('savepoint amcheck_index')
      try {
        await sql(BT_INDEX_CHECK_SQL, [c.oid, options.heapAllIndexed])
        await sql('release savepoint amcheck_index')
        checked++
      } catch (error) {
        await sql('rollback to savepoint amcheck_index')
        const err = error as { code?: string; message: string }
        if (err.code === 'XX002' || err.code === 'XX001') {
          checked++
          findings.push({
            object: String(c.index),
            value: 1,
            detail: `on ${c.table}: ${err.message}`,
          })
        } else if (err.code === '55P03')
          notChecked.push(`${c.index} (waited for a lock past lock_timeout)`)
        else if (err.code === '57014') notChecked.push(`${c.index} (timed out)`)
        else if (err.code === '42501')
          notChecked.push(
            `${c.index} (permission denied: grant EXECUTE on bt_index_check to ${server.user})`,
          )
        else throw error
      }
    }
    return {
      value: findings.length,
      findings,
      message: `${checked} of ${candidates.length} index(es) verified${findings.length ? `, ${findings.length} corrupt` : ', no corruption found'}`,
      ...(notChecked.length
        ? {
            unknownReason: `${notChecked.length} not checked: ${notChecked.slice(0, 5).join(', ')}`,
          }
        : {}),
      total: num(findings.length),
    }
  },
})
