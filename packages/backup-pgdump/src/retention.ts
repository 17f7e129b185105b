import { Db, applyRetention, type Context } from 'dbops/plugin'
import { databasesToDump } from './databases.ts'
import type { PgdumpOptions } from './options.ts'

export interface DatabaseRetention {
  database: string
  storage: string
  kept: string[]
  deleted: string[]
  /** Damaged sets and unreadable manifests (by folder id): reported, never deleted. */
  leftAlone: string[]
  why: Record<string, string>
}

/**
 * Core's retention policy (`applyRetention`, unchanged) for every database this plugin backs
 * up, not only the configured one: with `databases: [...]` or `'all'`, `retention:apply`
 * alone would leave the other databases' sets to pile up.
 */
export async function retentionForDatabases(
  ctx: Context,
  options: PgdumpOptions,
  dryRun: boolean,
): Promise<DatabaseRetention[]> {
  const out: DatabaseRetention[] = []
  for (const database of await databasesToDump(ctx, options)) {
    ctx.signal.throwIfAborted()
    // applyRetention only reads the database name from ctx.db; this Db never connects.
    const db =
      database === ctx.db.target.database
        ? ctx.db
        : new Db({ ...ctx.config.connection, database, readReplicaUrl: undefined }, ctx.config.pool)
    try {
      for (const outcome of await applyRetention({ ...ctx, db }, { dryRun }))
        out.push({ database, ...outcome })
    } finally {
      if (db !== ctx.db) await db.close()
    }
  }
  return out
}
