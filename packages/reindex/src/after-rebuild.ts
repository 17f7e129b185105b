import type { RebuildContext, RebuildOutcome } from './rebuild.ts'
import { BT_INDEX_CHECK, qualified } from './sql.ts'
import { sqlState } from './sqlstate.ts'

type Target = { schema: string; table: string; index: string }

/** After the swap: ANALYZE of the table under analyze's lock_timeout, then back to the rebuild's. */
export async function analyzeAfterRebuild(
  rc: RebuildContext,
  target: Target,
  outcome: RebuildOutcome,
): Promise<void> {
  if (!rc.options.analyzeAfterRebuild) return
  try {
    await rc.session.setTimeouts({ lockMs: rc.options.analyze.lockTimeout })
    await rc.session.query(`analyze ${qualified(target.schema, target.table)}`, [], {
      signal: rc.signal,
    })
  } catch (error) {
    if (rc.signal.aborted) throw error
    outcome.notes.push(`ANALYZE after the rebuild failed: ${(error as Error).message}`)
  } finally {
    await rc.session.setTimeouts({ lockMs: rc.options.lockTimeout })
  }
}

/** amcheck's bt_index_check of the new index, when amcheck is on and installed. */
export async function verify(
  rc: RebuildContext,
  target: Target,
): Promise<RebuildOutcome['verified']> {
  if (!rc.options.verify.amcheck) return 'off'
  if (!rc.amcheckSchema) return 'not-installed'
  try {
    await rc.session.query(
      BT_INDEX_CHECK(rc.amcheckSchema),
      [qualified(target.schema, target.index), rc.options.verify.heapallindexed],
      { signal: rc.signal },
    )
    return 'ok'
  } catch (error) {
    if (rc.signal.aborted) throw error
    rc.logger.warn(`amcheck on ${target.schema}.${target.index}: ${(error as Error).message}`)
    return sqlState(error) === 'XX002' ? 'corrupt' : 'error'
  }
}
