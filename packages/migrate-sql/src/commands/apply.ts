import { UsageError, type CommandContext } from 'dbops/plugin'
import { type ApplyFlags, applyMigrations } from '../apply.ts'
import type { MigrateOptions } from '../options.ts'

export async function applyCommand(
  flags: ApplyFlags,
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  // With Prisma's ledger a migration is named by its folder, so --to also takes a folder name.
  if (flags.to !== undefined && !/^\d+$/.test(flags.to) && options.ledger !== 'prisma')
    throw new UsageError(`--to: '${flags.to}' is not a version (digits)`)
  const result = await applyMigrations(ctx, options, flags, (line) =>
    ctx.logger.info(`applying ${line}`),
  )
  if (ctx.json) {
    ctx.printJson({ status: 'ok', dryRun: ctx.dryRun, ...result })
    return 0
  }
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
