import { type Command, defineCommand } from 'dbops/plugin'
import type { MigrateOptions } from '../options.ts'

// Each subcommand's module is loaded when it runs: a config that includes this plugin costs
// nothing to commands that do not migrate, and `dbops migrate --help` loads none of them.
export function migrateCommand(options: MigrateOptions): Command {
  return defineCommand({
    summary: 'apply, status, new, lint, baseline, down, repair',
    description: 'Plain SQL migrations.',
    notes: `Files: migrations/<version>_<name>.sql with optional "-- dbops:up" / "-- dbops:down" sections,
"-- dbops:no-transaction" for CREATE INDEX CONCURRENTLY and the like, R__<name>.sql for
repeatable scripts, \${NAME} placeholders, and Prisma's <ts>_<name>/migration.sql layout.`,
    subcommands: {
      apply: defineCommand({
        summary: 'apply pending files under the migration lock (--dry-run: show the plan)',
        flags: {
          to: {
            type: 'string',
            placeholder: 'version',
            description: 'apply versioned files up to and including this version only',
          },
          allowOutOfOrder: {
            type: 'boolean',
            description: 'apply a pending file older than the newest applied one',
          },
          allowMissing: {
            type: 'boolean',
            description: 'apply although an applied file is no longer on disk',
          },
          skipLint: { type: 'boolean', description: 'skip the lint before applying' },
        },
        run: async ({ flags }, ctx) =>
          (await import('./apply.ts')).applyCommand(flags, ctx, options),
      }),
      status: defineCommand({
        summary:
          'applied, pending, drifted, missing, out-of-order, duplicate versions (exit 0 up to date, 1 pending, 2 drift/missing/duplicates)',
        run: async (_input, ctx) => (await import('./status.ts')).statusCommand(ctx, options),
      }),
      new: defineCommand({
        summary: "write the next file (timestamp, or the directory's zero-padded numbering)",
        args: { name: { required: true, variadic: true } },
        flags: {
          repeatable: {
            type: 'boolean',
            description: 'an R__<name>.sql script, run again whenever it changes',
          },
        },
        examples: ['dbops migrate new add_users_email_index'],
        run: async ({ flags, args }, ctx) =>
          (await import('./new.ts')).newCommand(args.name.join(' '), flags, ctx, options),
      }),
      lint: defineCommand({
        summary: 'lint files for dangerous DDL, weighed by real table sizes when connected',
        args: { files: { variadic: true } },
        flags: {
          offline: { type: 'boolean', description: 'do not connect: table sizes are not weighed' },
        },
        run: async ({ flags, args }, ctx) =>
          (await import('./lint.ts')).lintCommand(args.files, flags, ctx, options),
      }),
      baseline: defineCommand({
        summary: 'mark an existing database as having every file up to <version>',
        args: { version: { required: true } },
        examples: ['dbops migrate baseline 20250101120000'],
        run: async ({ args }, ctx) =>
          (await import('./history.ts')).baselineCommand(args.version, ctx, options),
      }),
      down: defineCommand({
        summary: 'run the down sections of the last n applied files (default 1)',
        args: { n: {} },
        run: async ({ args }, ctx) =>
          (await import('./history.ts')).downCommand(args.n, ctx, options),
      }),
      repair: defineCommand({
        summary: 'record the current checksum of drifted files after a harmless edit',
        run: async (_input, ctx) => (await import('./history.ts')).repairCommand(ctx, options),
      }),
    },
  })
}
