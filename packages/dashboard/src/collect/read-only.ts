import type { Db } from 'dbops/plugin'
import type pg from 'pg'

/**
 * Runs the dashboard's reads in one read-only transaction with a statement timeout, so the
 * page can never change anything nor hold a query open on a busy server.
 */
export async function readOnly<T>(
  db: Db,
  statementTimeoutMs: number,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return db.withClient(async (client) => {
    await client.query(
      `begin transaction read only; set local statement_timeout = ${Math.round(statementTimeoutMs)}; set local lock_timeout = 1000`,
    )
    try {
      const result = await fn(client)
      await client.query('commit')
      return result
    } catch (error) {
      await client.query('rollback').catch(() => {})
      throw error
    }
  })
}
