import { UsageError, type Command } from 'dbops/plugin'
import type { MigrateOptions } from '../options.ts'

const HELP = `dbops migrate <subcommand> — plain SQL migrations

  apply [--to <version>] [--allow-out-of-order] [--allow-missing] [--skip-lint]
                        apply pending files under the migration lock (--dry-run: show the plan)
  status                applied, pending, drifted, missing, out-of-order, duplicate versions
                        (exit 0 up to date, 1 pending, 2 drift/missing/duplicates)
  new <name> | new --repeatable <name>
                        write the next file (timestamp, or the directory's zero-padded numbering)
  lint [files...] [--offline]
                        lint files for dangerous DDL, weighed by real table sizes when connected
  baseline <version>    mark an existing database as having every file up to <version>
  down [n]              run the down sections of the last n applied files (default 1)
  repair                record the current checksum of drifted files after a harmless edit

Global options: --json (one JSON document), --dry-run, --config <file>.
Files: migrations/<version>_<name>.sql with optional "-- dbops:up" / "-- dbops:down" sections,
"-- dbops:no-transaction" for CREATE INDEX CONCURRENTLY and the like, R__<name>.sql for
repeatable scripts, \${NAME} placeholders, and Prisma's <ts>_<name>/migration.sql layout.`

const SUBCOMMANDS: Record<
  string,
  () => Promise<(args: string[], ctx: any, options: MigrateOptions) => Promise<number>>
> = {
  apply: async () => (await import('./apply.ts')).applyCommand,
  status: async () => (await import('./status.ts')).statusCommand,
  new: async () => (await import('./new.ts')).newCommand,
  lint: async () => (await import('./lint.ts')).lintCommand,
  baseline: async () => (await import('./history.ts')).baselineCommand,
  down: async () => (await import('./history.ts')).downCommand,
  repair: async () => (await import('./history.ts')).repairCommand,
}

export function migrateCommand(options: MigrateOptions): Command {
  return {
    summary: 'apply, status, new, lint, baseline, down, repair',
    help: HELP,
    async run(args, ctx) {
      const [sub, ...rest] = args
      const load = sub ? SUBCOMMANDS[sub] : undefined
      if (!load)
        throw new UsageError(
          sub ? `unknown migrate subcommand '${sub}'` : 'migrate needs a subcommand',
          `One of: ${Object.keys(SUBCOMMANDS).join(', ')}. See \`dbops migrate --help\`.`,
        )
      return (await load())(rest, ctx, options)
    },
  }
}
