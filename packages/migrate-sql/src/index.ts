import { definePlugin } from 'dbops/plugin'
import type { ApplyResult } from './apply.ts'
import { migrateCommand } from './commands/index.ts'
import { migrateOptionsSchema, type MigrateOptions } from './options.ts'
import { loadParser, splitStatements as splitStatementsSync, type Statement } from './sql/parser.ts'
import { tokenChecksum as tokenChecksumSync } from './sql/token-checksum.ts'

// Loaded on first use: a config that includes this plugin costs nothing to commands that do not migrate.
const applyMigrations: typeof import('./apply.ts').applyMigrations = async (...args) =>
  (await import('./apply.ts')).applyMigrations(...args)

/**
 * @dbops/migrate-sql: plain SQL migrations applied under a polled session advisory lock,
 * each transactional file its own transaction, many per round trip, with a checksummed ledger (or Prisma's), lock
 * timeouts with retries, and a lint that weighs findings by real table sizes.
 */
export default definePlugin({
  name: '@dbops/migrate-sql',
  namespace: 'migrate',
  options: migrateOptionsSchema,
  setup(input, api) {
    const options: MigrateOptions = { ...input, configDir: api.configDir }
    return {
      tasks: {
        apply: {
          title: 'apply pending migrations',
          mutates: true,
          plan: async (ctx) => (await applyMigrations(ctx, options, {})).plan ?? [],
          run: (ctx, io) =>
            applyMigrations(ctx, options, {}, (line) => io.output(`applying ${line}`)),
          summarize: (r: ApplyResult) =>
            r.applied.length
              ? `${r.applied.length} migration(s) applied in ${r.durationMs} ms`
              : `up to date (${r.upToDate} applied)`,
        },
      },
      commands: { migrate: migrateCommand(options) },
    }
  },
})

export { migrateOptionsSchema, type MigrateOptions, type MigrateOptionsInput } from './options.ts'
export type { ApplyResult, AppliedFile } from './apply.ts'
export type { Finding } from './lint/lint.ts'
export { RULES } from './lint/rules.ts'
export type { Statement } from './sql/parser.ts'

/** Splits SQL into statements with the PostgreSQL parser (loads its WebAssembly module on first use). */
export async function splitStatements(text: string): Promise<Statement[]> {
  await loadParser()
  return splitStatementsSync(text)
}

/** The dbops ledger checksum of a script: sha256 of its token stream (comments and formatting do not count). */
export async function tokenChecksum(text: string): Promise<string> {
  await loadParser()
  return tokenChecksumSync(text)
}
