import type { Context } from 'dbops/plugin'
import type { PgdumpOptions } from './options.ts'

const DATABASES_SQL = `select datname from pg_database where datallowconn and not datistemplate order by datname`

/** The databases of this run: the configured one, the configured list, or every database. */
export async function databasesToDump(ctx: Context, options: PgdumpOptions): Promise<string[]> {
  if (!options.databases) return [ctx.db.target.database]
  if (options.databases !== 'all') return options.databases
  const { rows } = await ctx.db.query<{ datname: string }>(DATABASES_SQL, [], {
    signal: ctx.signal,
  })
  return rows.map((r) => r.datname)
}
