import {
  ExitCode,
  UsageError,
  bar,
  drawsPictures,
  formatBytes,
  isVerified,
  sparkline,
  takeFlag,
  takeOption,
  type Command,
  type CommandContext,
} from 'dbops/plugin'
import { allSets, findSet, type FoundSet } from './backup-sets.ts'
import { restoreCommand } from './restore.ts'
import { verifySet, type VerifyLevel } from './verify.ts'
import type { PgdumpOptions } from './options.ts'

export const backupsHelp = `dbops backups <list|verify|restore> [options]

  list [--database <db>] [--all] [--json]
      Backup sets in every destination, newest first: id, time, database, size,
      destination, verified. Only sets with a manifest exist; --all also lists the
      databases of a multi-database backup (default: the configured database).

  verify <id|latest> [--level checksum|archive|restore] [--from <destination>] [--json]
      checksum: re-read every object and compare sizes and sha256 with the manifest.
      archive:  also decrypt, decompress and read the table of contents (pg_restore --list).
      restore:  also restore into a scratch database (created and dropped by dbops) and
                compare each table's row count with the manifest.
      The outcome is recorded in the manifest. Needs DBOPS_AGE_IDENTITY(_FILE) beyond checksum.

  restore <id|latest> (--to <url> | --target-db <name>) [--create] [--clean] [--jobs N]
          [--table t ...] [--schema s ...] [--globals] [--no-owner] [--from <destination>]
          [--database <db>] [--force <db>] [--json]
      Streams the set from storage through decryption and decompression into pg_restore.
      Before the target is touched: the set, the age key, pg_restore's version and every
      stored byte (sha256) are checked. Refuses the configured primary unless --force names
      it, a non-empty target without --clean, a missing one without --create.
      Prefer --target-db or a URL without a password (PGPASSWORD in the environment):
      a password in --to is visible to other users in ps.

Exit codes: 0 ok, 1 failed (verification failed, restore failed), 2 usage.`

export function backupsCommand(options: PgdumpOptions, configDir: string): Command {
  return {
    summary: 'list, verify and restore backup sets',
    help: backupsHelp,
    async run(argv, ctx) {
      const args = [...argv]
      const sub = args.shift()
      if (sub === 'list') return list(ctx, args)
      if (sub === 'verify') return verify(ctx, args, options, configDir)
      if (sub === 'restore') return restore(ctx, args, options, configDir)
      throw new UsageError(
        sub
          ? `unknown backups command '${sub}'`
          : 'backups needs a command: list, verify or restore',
        'Run `dbops backups --help`.',
      )
    },
  }
}

function rejectLeftovers(args: string[]): void {
  if (args.length > 0)
    throw new UsageError(
      `unexpected argument${args.length > 1 ? 's' : ''}: ${args.join(' ')}`,
      'Run `dbops backups --help`.',
    )
}

async function list(ctx: CommandContext, args: string[]): Promise<number> {
  const all = takeFlag(args, '--all')
  const database = takeOption(args, '--database') ?? (all ? undefined : ctx.db.target.database)
  rejectLeftovers(args)
  const { sets, damaged: damagedSets, orphans, unreadable } = await allSets(ctx, database)
  const rowOf = (s: FoundSet) => ({
    id: s.manifest.id,
    startedAt: s.manifest.startedAt,
    database: s.manifest.database,
    size: s.manifest.objects.reduce((n, o) => n + o.size, 0),
    destination: s.storage.name,
    location: `${s.storage.location}/${s.prefix}`,
    format: s.manifest.format,
    compression: s.manifest.compression.algorithm,
    encrypted: !!s.manifest.encryption,
    verified: isVerified(s.manifest),
    lastVerification: s.manifest.verification.at(-1) ?? null,
    tags: s.manifest.tags,
  })
  const rows = sets.map(rowOf)
  // Damaged sets are listed under the folder's id (a damaged manifest may claim another's).
  const damaged = [
    ...damagedSets.map((d) => ({
      ...rowOf(d),
      id: d.prefix.split('/')[1]!,
      prefix: d.prefix,
      verified: false,
      problems: d.problems,
    })),
    ...unreadable.map((u) => ({
      id: u.id,
      destination: u.storage,
      prefix: u.prefix,
      location: `${ctx.storage.get(u.storage)?.location}/${u.prefix}`,
      problems: [`the manifest is unreadable: ${u.error}`],
    })),
  ]
  if (ctx.json) {
    ctx.printJson({ status: 'ok', backups: rows, damaged, incomplete: orphans, unreadable })
    return ExitCode.ok
  }
  if (rows.length === 0 && damaged.length === 0)
    ctx.print(
      `no backups${database ? ` of ${database}` : ''} in ${[...ctx.storage.keys()].join(', ')}`,
    )
  else {
    const pictures = drawsPictures(ctx.json)
    if (pictures && sets.length) for (const line of backupTrends(sets)) ctx.print(line)
    const largest = Math.max(0, ...rows.map((r) => r.size))
    const cells = (
      r: Partial<ReturnType<typeof rowOf>> & { id: string; destination: string },
      verified: string,
    ) => [
      r.id,
      r.startedAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '?',
      r.database ?? '?',
      r.size === undefined ? '?' : formatBytes(r.size),
      ...(pictures ? [r.size === undefined ? '' : bar(r.size, largest, 8)] : []),
      r.destination,
      verified,
      r.tags?.join(',') ?? '',
    ]
    const table = [
      [
        'ID',
        'STARTED',
        'DATABASE',
        'SIZE',
        ...(pictures ? [''] : []),
        'DESTINATION',
        'VERIFIED',
        'TAGS',
      ],
      ...rows.map((r) =>
        cells(
          r,
          r.lastVerification
            ? `${r.lastVerification.status === 'verified' ? 'yes' : 'FAILED'} (${r.lastVerification.method})`
            : 'no',
        ),
      ),
      ...damaged.map((d) => cells(d, 'DAMAGED')),
    ]
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
    for (const row of table)
      ctx.print(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
  }
  if (damaged.length) {
    ctx.print(
      `\n${damaged.length} damaged set(s), not restorable as they are and left alone by retention:`,
    )
    for (const d of damaged) ctx.print(`  ${d.destination}:${d.prefix}: ${d.problems.join('; ')}`)
  }
  if (orphans.length)
    ctx.print(
      `\n${orphans.length} incomplete folder(s) without a manifest (failed or running backups; not restorable): ${orphans.map((o) => `${o.storage}:${o.prefix}`).join(', ')}`,
    )
  return ExitCode.ok
}

/** On a terminal, per database: size and duration of its sets, oldest to newest (each set once, whatever its copies). */
function backupTrends(sets: Awaited<ReturnType<typeof allSets>>['sets']): string[] {
  const byDb = new Map<string, Map<string, (typeof sets)[number]['manifest']>>()
  for (const s of sets)
    byDb.set(
      s.manifest.database,
      (byDb.get(s.manifest.database) ?? new Map()).set(s.manifest.id, s.manifest),
    )
  const width = Math.max(...[...byDb.keys()].map((d) => d.length))
  const lines = [...byDb].map(([db, own]) => {
    const list = [...own.values()].slice(0, 40).reverse()
    const ms = (m: (typeof list)[number]) => Date.parse(m.finishedAt) - Date.parse(m.startedAt)
    return `${db.padEnd(width)}  size ${sparkline(list.map((m) => m.objects.reduce((n, o) => n + o.size, 0)))}  duration ${sparkline(list.map(ms))}  ${list.length} set${list.length === 1 ? '' : 's'}`
  })
  return [...lines, '']
}

async function verify(
  ctx: CommandContext,
  args: string[],
  options: PgdumpOptions,
  configDir: string,
): Promise<number> {
  const level = (takeOption(args, '--level') ?? 'archive') as VerifyLevel
  if (!['checksum', 'archive', 'restore'].includes(level))
    throw new UsageError(`--level must be checksum, archive or restore, not '${level}'`)
  const from = takeOption(args, '--from')
  const database = takeOption(args, '--database')
  const ref = args.shift()
  if (!ref)
    throw new UsageError(
      'verify needs a backup id or latest',
      'Example: dbops backups verify latest --level restore',
    )
  rejectLeftovers(args)
  const set = await findSet(ctx, ref, { from, database })
  try {
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
  args: string[],
  options: PgdumpOptions,
  configDir: string,
): Promise<number> {
  const many = (name: string) => {
    const out: string[] = []
    for (let v = takeOption(args, name); v !== undefined; v = takeOption(args, name)) out.push(v)
    return out
  }
  const jobsText = takeOption(args, '--jobs') ?? '1'
  const jobs = Number(jobsText)
  if (!Number.isInteger(jobs) || jobs < 1)
    throw new UsageError(`--jobs must be a positive whole number, not '${jobsText}'`)
  const req = {
    targetUrl: takeOption(args, '--to') ?? takeOption(args, '--target-url'),
    targetDb: takeOption(args, '--target-db'),
    from: takeOption(args, '--from'),
    database: takeOption(args, '--database'),
    force: takeOption(args, '--force'),
    jobs,
    tables: many('--table'),
    schemas: many('--schema'),
    clean: takeFlag(args, '--clean'),
    create: takeFlag(args, '--create'),
    globals: takeFlag(args, '--globals'),
    noOwner: takeFlag(args, '--no-owner'),
  }
  const ref = args.shift()
  if (!ref)
    throw new UsageError(
      'restore needs a backup id or latest',
      'Example: dbops backups restore latest --target-db myapp_restored --create',
    )
  rejectLeftovers(args)
  if (req.targetUrl && req.targetDb)
    throw new UsageError('give either --to or --target-db, not both')
  const report = await restoreCommand(ctx, options, configDir, { ref, ...req })
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
