import type { Db, Logger, DbSession } from 'dbops/plugin'
import { leftoverOf } from './leftovers.ts'
import { BUILD_IN_PROGRESS, INVALID_ON_TABLE, qualified } from './sql.ts'

/** What dropping leftovers needs: the pool for catalog reads, the rebuild's session for DROPs. */
export interface DropContext {
  db: Db
  session: DbSession
  logger: Logger
}

type IndexName = { schema: string; index: string }

/** The pid of an index build running on the table in another session, if any. */
export async function buildRunning(
  db: Db,
  tableOid: string,
  ownPid: number,
  signal?: AbortSignal,
): Promise<number | undefined> {
  return (await db.query<{ pid: number }>(BUILD_IN_PROGRESS, [tableOid, ownPid], { signal }))
    .rows[0]?.pid
}

/** The invalid `_ccnew`/`_ccold` leftovers of one index on its table. */
export async function leftoversOf(
  db: Db,
  target: IndexName,
  tableOid: string,
): Promise<Array<{ name: string; kind: 'ccnew' | 'ccold' }>> {
  const { rows } = await db.query<{ index_name: string }>(INVALID_ON_TABLE, [tableOid])
  return rows.flatMap((r) => {
    const owner = leftoverOf(r.index_name, [target.index])
    return owner ? [{ name: r.index_name, kind: owner.kind }] : []
  })
}

/** Drops the invalid `_ccnew`/`_ccold` leftovers of one index; returns the names dropped. */
export async function dropLeftovers(
  dc: DropContext,
  target: IndexName,
  tableOid: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const dropped: string[] = []
  if (await buildRunning(dc.db, tableOid, dc.session.pid, signal)) return dropped
  for (const leftover of await leftoversOf(dc.db, target, tableOid)) {
    if (await dropIndex(dc, target.schema, leftover.name, signal))
      dropped.push(`${target.schema}.${leftover.name}`)
  }
  return dropped
}

/** DROP INDEX CONCURRENTLY; a failure is a warning (a later run drops it), an abort propagates. */
export async function dropIndex(
  dc: Pick<DropContext, 'session' | 'logger'>,
  schema: string,
  index: string,
  signal?: AbortSignal,
): Promise<boolean> {
  try {
    await dc.session.query(`drop index concurrently if exists ${qualified(schema, index)}`, [], {
      signal,
    })
    return true
  } catch (error) {
    if (signal?.aborted) throw error
    dc.logger.warn(
      `could not drop the leftover index ${schema}.${index}: ${(error as Error).message}; it will be dropped by a later run`,
    )
    return false
  }
}

/** After an abort the statement is cancelled; drop what it left, within a bounded time. */
export async function cleanupAfterAbort(
  dc: DropContext,
  target: IndexName,
  tableOid: string,
): Promise<void> {
  try {
    await dc.session.setTimeouts({ statementMs: 30_000, lockMs: 5000 })
    const dropped = await dropLeftovers(dc, target, tableOid)
    if (dropped.length) dc.logger.info(`interrupted: dropped the unfinished ${dropped.join(', ')}`)
  } catch (error) {
    dc.logger.warn(
      `interrupted: could not drop the leftovers of ${target.schema}.${target.index}: ${(error as Error).message}; the next run drops them`,
    )
  }
}
