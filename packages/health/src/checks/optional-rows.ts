import type pg from 'pg'
import type { CheckContext } from '../types.ts'

const SAVEPOINT = 'dbops_health_optional'

/**
 * Rows of a query that only decorates a check's findings (a definition's text): it runs in
 * a savepoint, and when it fails (a lock taken after the check looked at pg_locks, a
 * timeout) the check's transaction rolls back to the savepoint and goes on without it.
 * Returns undefined on failure; an interrupted run still throws.
 */
export async function optionalRows<R extends pg.QueryResultRow>(
  check: Pick<CheckContext, 'sql' | 'ctx'>,
  text: string,
  params: unknown[],
): Promise<R[] | undefined> {
  await check.sql(`savepoint ${SAVEPOINT}`)
  try {
    const rows = await check.sql<R>(text, params)
    await check.sql(`release savepoint ${SAVEPOINT}`)
    return rows
  } catch (error) {
    if (check.ctx.signal.aborted || !(error as { code?: string }).code) throw error
    await check.sql(`rollback to savepoint ${SAVEPOINT}`)
    return undefined
  }
}
