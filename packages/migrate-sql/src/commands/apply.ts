import { takeFlag, takeOption, UsageError, type CommandContext } from 'dbops/plugin'
import { applyMigrations } from '../apply.ts'
import type { MigrateOptions } from '../options.ts'

export async function applyCommand(
  args: string[],
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  const flags = {
    allowOutOfOrder: takeFlag(args, '--allow-out-of-order'),
    allowMissing: takeFlag(args, '--allow-missing'),
    skipLint: takeFlag(args, '--skip-lint'),
    to: takeOption(args, '--to'),
  }
  // With Prisma's ledger a migration is named by its folder, so --to also takes a folder name.
  if (flags.to !== undefined && !/^\d+$/.test(flags.to) && options.ledger !== 'prisma')
    throw new UsageError(`--to: '${flags.to}' is not a version (digits)`)
  if (args.length)
    throw new UsageError(
      `migrate apply: unexpected argument(s) ${args.join(' ')}`,
      'See `dbops migrate --help`.',
    )
  const result = await applyMigrations(ctx, options, flags, (line) =>
    ctx.logger.info(`applying ${line}`),
  )
  if (ctx.json) return (ctx.printJson({ status: 'ok', dryRun: ctx.dryRun, ...result }), 0)
  if (result.plan) {
    for (const line of result.plan) ctx.print(line)
    return 0
  }
  for (const a of result.applied) {
    const notes = [
      a.transactional ? '' : 'no transaction',
      a.retries ? `${a.retries} lock retries` : '',
      a.droppedInvalidIndexes ? `dropped invalid ${a.droppedInvalidIndexes.join(', ')}` : '',
      a.invalidIndexes ? `INVALID index left: ${a.invalidIndexes.join(', ')}` : '',
    ]
    ctx.print(
      `applied ${a.file} (${[`${a.statements} statements`, `${a.durationMs} ms`, ...notes.filter(Boolean)].join(', ')})`,
    )
  }
  for (const f of result.findings.filter((f) => f.severity === 'warning'))
    ctx.print(`lint warning: ${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}`)
  ctx.print(
    result.applied.length
      ? `${result.applied.length} migration(s) applied in ${result.durationMs} ms`
      : `nothing to apply: ${result.upToDate} migration(s) up to date`,
  )
  return 0
}
