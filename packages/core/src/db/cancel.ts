import type pg from 'pg'

const CANCEL_BACKEND = 'select pg_cancel_backend($1)'

/** What can run the cancel: a `Db`, or a pool of the same server. */
interface Canceller {
  query(sql: string, params: unknown[]): Promise<unknown>
}

/**
 * Cancels the statement running on `client` from another connection (pg_cancel_backend): an
 * aborted query stops on the server too, not only in this process.
 */
export async function cancelBackend(
  via: Canceller | pg.Pool,
  client: pg.ClientBase,
): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID
  if (!pid) return
  try {
    await (via as Canceller).query(CANCEL_BACKEND, [pid])
  } catch {
    // best effort: the statement may already have ended
  }
}
