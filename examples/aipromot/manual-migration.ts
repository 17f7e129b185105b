// The app team's manual migration as a dbops task (`manual:apply`): their idempotent script,
// statement by statement as psql ran it (CREATE INDEX CONCURRENTLY cannot run inside a
// transaction), now under an advisory lock so two deploys never run it at once, with a
// lock_timeout so ALTER TABLE never queues the app's queries behind it, and cancellable.
// A local plugin: a file in the app's repo, typed like a published one.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { DbopsError, definePlugin } from 'dbops/plugin'
import { splitStatements } from '@dbops/migrate-sql'
import { z } from 'zod'

export default definePlugin({
  name: 'aipromot-manual-migration',
  namespace: 'manual',
  options: z.strictObject({
    /** The script, relative to the config file. */
    file: z.string().default('./migrations/manual_add_email_verification_and_optimize_indexes.sql'),
    /** lock_timeout of each statement: fail fast rather than block the app behind DDL. */
    lockTimeout: z
      .string()
      .regex(/^\d+(ms|s|min)$/, "expected a PostgreSQL duration such as '5s'")
      .default('5s'),
  }),
  setup: (options, api) => {
    const file = path.resolve(api.configDir, options.file)
    const display = path.relative(api.configDir, file)
    const statements = async () => {
      try {
        return splitStatements(await readFile(file, 'utf8'))
      } catch (error) {
        throw new DbopsError(
          'MANUAL_SCRIPT_UNREADABLE',
          `cannot read the manual migration ${display}: ${(error as Error).message}`,
          { hint: "Check the manual plugin's `file` option.", cause: error },
        )
      }
    }
    const headline = (sql: string) => sql.split('\n')[0]!.slice(0, 100)
    return {
      tasks: {
        apply: {
          title: `run ${path.basename(file)}`,
          mutates: true,
          plan: async () => (await statements()).map((s, i) => `${i + 1}. ${headline(s.sql)}`),
          run: async (ctx, io) => {
            const list = await statements()
            // On the lock's own session, not the pool: no client-side query timeout, since
            // building an index concurrently on a big table takes as long as it takes.
            return ctx.db.withLock(
              'aipromot:manual-migration',
              async (session) => {
                await session.set({ lock_timeout: options.lockTimeout })
                const started = Date.now()
                for (const [i, statement] of list.entries()) {
                  ctx.signal.throwIfAborted()
                  io.output(`${i + 1}/${list.length} ${headline(statement.sql)}`)
                  try {
                    // Aborting cancels the statement on the server.
                    await session.query(statement.sql, [], { signal: ctx.signal })
                  } catch (error) {
                    if (ctx.signal.aborted) throw ctx.signal.reason
                    throw new DbopsError(
                      'MANUAL_STATEMENT_FAILED',
                      `${display}, statement ${i + 1} (${headline(statement.sql)}): ${(error as Error).message}`,
                      {
                        hint: 'The script is idempotent: fix the cause and run it again; it continues where it stopped.',
                        cause: error,
                      },
                    )
                  }
                }
                return { statements: list.length, durationMs: Date.now() - started }
              },
              { waitMs: 60_000, signal: ctx.signal },
            )
          },
          summarize: (r: { statements: number; durationMs: number }) =>
            `${r.statements} statements in ${r.durationMs} ms`,
        },
      },
    }
  },
})
