import type { Context } from 'dbops/plugin'
import type pg from 'pg'

/**
 * The database clients of one health run: a check takes one, gives it back for the next
 * check, or drops it when it is in doubt (connection lost, watchdog fired), so the next
 * check connects afresh. At most as many are open as checks run at once.
 */
export interface Connections {
  /** An idle client of this run, else a new one from the pool. */
  take(): Promise<pg.PoolClient>
  give(client: pg.PoolClient): void
  /** Destroys the client: the pool will not hand it out again. */
  drop(client: pg.PoolClient, error: unknown): void
  /** Back to the pool, every one, busy or not: after this, give and drop do nothing. */
  releaseAll(): void
}

/** What connecting needs of the run's Context. */
type Connecting = Pick<Context, 'db' | 'signal'>

/** Connects under the run's signal: an interrupted run opens no new connection. */
export async function connect(ctx: Connecting): Promise<pg.PoolClient> {
  ctx.signal.throwIfAborted()
  return ctx.db.connect()
}

export function runConnections(ctx: Connecting, first?: pg.PoolClient): Connections {
  const open = new Set<pg.PoolClient>(first ? [first] : [])
  const idle: pg.PoolClient[] = first ? [first] : []
  let ended = false
  return {
    take: async () => {
      const client = idle.pop() ?? (await connect(ctx))
      if (ended) {
        // Connected while the run was being torn down: nobody would give it back.
        client.release()
        throw new Error('the health run ended while a check was connecting')
      }
      open.add(client)
      return client
    },
    give: (client) => {
      if (open.has(client)) idle.push(client)
    },
    drop: (client, error) => {
      if (!open.delete(client)) return
      client.release(error instanceof Error ? error : new Error(String(error)))
    },
    releaseAll: () => {
      ended = true
      for (const client of open) client.release()
      open.clear()
      idle.length = 0
    },
  }
}
