import {
  ExitCode,
  UsageError,
  defineCommand,
  type Command,
  type CommandContext,
} from 'dbops/plugin'
import { listBackups } from './backups-list.ts'
import { findSet } from './backup-sets.ts'
import type { RestoreRequest } from './restore.ts'
import type { VerifyLevel } from './verify.ts'
import type { PgdumpOptions } from './options.ts'

export function backupsCommand(options: PgdumpOptions, configDir: string): Command {
  return defineCommand({
    summary: 'list, verify and restore backup sets',
    notes: 'Exit codes: 0 ok, 1 failed (verification failed, restore failed), 2 usage.',
    subcommands: {
      list: defineCommand({
        summary: 'backup sets in every destination, newest first',
        description: `Backup sets in every destination, newest first: id, time, database, size,
destination, verified. Only sets with a manifest exist.`,
        flags: {
          database: {
            type: 'string',
            placeholder: 'db',
            description: 'the sets of this database (default: the configured database)',
          },
          all: {
            type: 'boolean',
            description: 'also the other databases of a multi-database backup',
          },
        },
        run: ({ flags }, ctx) =>
          listBackups(ctx, flags.database ?? (flags.all ? undefined : ctx.db.target.database)),
      }),
      verify: defineCommand({
        summary: 'check a set against its manifest, as deep as --level says',
        description: `checksum: re-read every object and compare sizes and sha256 with the manifest.
archive:  also decrypt, decompress and read the table of contents (pg_restore --list).
restore:  also restore into a scratch database (created and dropped by dbops) and
          compare each table's row count with the manifest.
The outcome is recorded in the manifest. Needs DBOPS_AGE_IDENTITY(_FILE) beyond checksum.`,
        args: {
          ref: {
            placeholder: 'id|latest',
            required: true,
            description: 'a backup id (`dbops backups list`), or latest: the newest set',
          },
        },
        flags: {
          level: {
            type: 'string',
            choices: ['checksum', 'archive', 'restore'],
            default: 'archive',
            description: 'how deep to check',
          },
          from: {
            type: 'string',
            placeholder: 'destination',
            description: 'only this destination',
          },
          database: {
            type: 'string',
            placeholder: 'db',
            description: 'latest: the newest set of this database',
          },
        },
        examples: ['dbops backups verify latest --level restore'],
        run: ({ flags, args }, ctx) => verify(ctx, options, configDir, args.ref, flags),
      }),
      restore: defineCommand({
        summary: 'restore a set into a database, checked before the target is touched',
        description: `Streams the set from storage through decryption and decompression into pg_restore.
Before the target is touched: the set, the age key, pg_restore's version and every
stored byte (sha256) are checked. Refuses the configured primary unless --force names
it, a non-empty target without --clean, a missing one without --create.
Prefer --target-db or a URL without a password (PGPASSWORD in the environment):
a password in --to is visible to other users in ps.`,
        args: {
          ref: {
            placeholder: 'id|latest',
            required: true,
            description: 'a backup id (`dbops backups list`), or latest: the newest set',
          },
        },
        flags: {
          to: {
            type: 'string',
            placeholder: 'url',
            aliases: ['target-url'],
            description: 'the target database, as a URL',
          },
          targetDb: {
            type: 'string',
            placeholder: 'name',
            description: "the target database on the configured database's server",
          },
          create: { type: 'boolean', description: 'create the target database' },
          clean: { type: 'boolean', description: 'restore over a non-empty target' },
          jobs: {
            type: 'number',
            integer: true,
            min: 1,
            default: 1,
            description: 'parallel pg_restore jobs',
          },
          table: {
            type: 'string',
            multiple: true,
            placeholder: 't',
            description: 'only this table',
          },
          schema: {
            type: 'string',
            multiple: true,
            placeholder: 's',
            description: 'only this schema',
          },
          globals: { type: 'boolean', description: 'also restore roles and tablespaces' },
          noOwner: { type: 'boolean', description: 'leave out ownership (pg_restore --no-owner)' },
          from: {
            type: 'string',
            placeholder: 'destination',
            description: 'read from this destination',
          },
          database: {
            type: 'string',
            placeholder: 'db',
            description: 'latest: the newest set of this database',
          },
          force: {
            type: 'string',
            placeholder: 'db',
            description: 'restore into the configured primary, named again to be sure',
          },
        },
        examples: ['dbops backups restore latest --target-db myapp_restored --create'],
        run: ({ flags, args }, ctx) =>
          restore(ctx, options, configDir, {
            ref: args.ref,
            targetUrl: flags.to,
            targetDb: flags.targetDb,
            from: flags.from,
            database: flags.database,
            force: flags.force,
            jobs: flags.jobs,
            tables: flags.table,
            schemas: flags.schema,
            clean: flags.clean,
            create: flags.create,
            globals: flags.globals,
            noOwner: flags.noOwner,
          }),
      }),
    },
  })
}

async function verify(
  ctx: CommandContext,
  options: PgdumpOptions,
  configDir: string,
  ref: string,
  { level, from, database }: { level: VerifyLevel; from?: string; database?: string },
): Promise<number> {
  const set = await findSet(ctx, ref, { from, database })
  try {
    const { verifySet } = await import('./verify.ts')
    const outcome = await verifySet(ctx, options, configDir, set.manifest.id, level, from)
    if (ctx.json) ctx.printJson(outcome)
    else
      for (const c of outcome.checks)
        ctx.print(`${outcome.id} ${c.storage}: verified (${c.method}) — ${c.detail}`)
    return ExitCode.ok
  } catch (error) {
    const outcome = (error as { outcome?: unknown }).outcome
    if (outcome && ctx.json) {
      ctx.printJson({
        ...(outcome as object),
        status: 'failed',
        error: { code: 'VERIFY_FAILED', message: (error as Error).message },
      })
      return ExitCode.failed
    }
    throw error
  }
}

async function restore(
  ctx: CommandContext,
  options: PgdumpOptions,
  configDir: string,
  req: RestoreRequest,
): Promise<number> {
  if (req.targetUrl && req.targetDb)
    throw new UsageError('give either --to or --target-db, not both')
  const { restoreCommand } = await import('./restore.ts')
  const report = await restoreCommand(ctx, options, configDir, req)
  if (ctx.json)
    ctx.printJson({ status: report.rowCounts === 'differ' ? 'failed' : 'ok', ...report })
  else {
    ctx.print(
      `restored ${report.id} (${report.database}) from ${report.from} into ${report.target}${report.created ? ' (created)' : ''} in ${(report.durationMs / 1000).toFixed(1)}s`,
    )
    if (report.rowCounts === 'match')
      ctx.print(`row counts of ${report.tablesCompared} tables match the backup`)
    for (const line of report.differences) ctx.print(`  ${line}`)
  }
  return report.rowCounts === 'differ' ? ExitCode.failed : ExitCode.ok
}
