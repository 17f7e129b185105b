import { DbopsError, ExitCode, UsageError, type CommandContext } from 'dbops/plugin'
import { appliedPartChecksum } from '../files/applied-part.ts'
import { filesUpTo } from '../files/up-to.ts'
import type { MigrateOptions } from '../options.ts'
import { withMigrationSession } from '../runner.ts'
import { prepareSection } from '../sql/prepare.ts'
import { computeStatus } from '../status.ts'

/** `dbops migrate baseline <version>`: marks an existing database as having every file up to <version>. */
export async function baselineCommand(
  version: string,
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  const byName = options.ledger === 'prisma'
  if (!byName && !/^\d+$/.test(version)) {
    throw new UsageError(
      `migrate baseline needs one version (digits)${byName ? ' or migration name' : ''}`,
      'Example: dbops migrate baseline 20250101120000',
    )
  }
  return withMigrationSession(ctx, options, { lock: true }, async ({ session, ledger, set }) => {
    await ledger.ensure(session)
    const rows = await ledger.load(session)
    if (rows.length) {
      throw new DbopsError(
        'MIGRATION_BASELINE_EXISTS',
        `${ledger.display} already records ${rows.length} migration(s); a baseline is for a database without history`,
        {
          hint: 'Use `dbops migrate status` to see what is applied.',
          exitCode: ExitCode.usage,
        },
      )
    }
    const files = filesUpTo(set.versioned, version)
    if (!files.length)
      throw new DbopsError(
        'MIGRATION_BASELINE_EMPTY',
        `no migration file has a version up to ${version}`,
        { exitCode: ExitCode.usage },
      )
    if (ctx.dryRun) {
      for (const f of files) ctx.print(`would mark ${f.display} as applied`)
      return 0
    }
    await session.run(['begin', ...files.map((f) => ledger.baselineSql(f)), 'commit'].join(';\n'))
    if (ctx.json)
      ctx.printJson({
        status: 'ok',
        ledger: ledger.display,
        baselined: files.map((f) => f.display),
      })
    else
      ctx.print(
        `marked ${files.length} migration(s) up to ${version} as applied in ${ledger.display}`,
      )
    return 0
  })
}

/** `dbops migrate down [n]`: runs the down sections of the last n applied files (default 1), newest first. */
export async function downCommand(
  count: string | undefined,
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  const n = count === undefined ? 1 : Number(count)
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`migrate down takes a count of at least 1, not '${count}'`)
  return withMigrationSession(
    ctx,
    options,
    { lock: !ctx.dryRun },
    async ({ session, ledger, set }) => {
      const status = computeStatus(
        set,
        await ledger.load(session),
        ledger,
        options.ledger === 'prisma',
      )
      const targets = status.applied
        .filter((a) => a.row.kind === 'versioned')
        .sort((a, b) => b.file.rank - a.file.rank)
        .slice(0, n)
      if (!targets.length)
        throw new DbopsError('MIGRATION_NOTHING_TO_REVERT', 'no applied migration to revert', {
          exitCode: ExitCode.usage,
        })
      const irreversible = targets.filter((t) => !t.file.down?.text.trim())
      if (irreversible.length) {
        throw new DbopsError(
          'MIGRATION_IRREVERSIBLE',
          `${irreversible.map((t) => t.file.display).join(', ')} has no down section; nothing was reverted`,
          {
            hint: 'Add a `-- dbops:down` section with the statements that undo it, or write a new forward migration.',
          },
        )
      }
      const prepared = []
      for (const t of targets)
        prepared.push({
          t,
          section: await prepareSection(t.file, t.file.down!, options.placeholders, ctx.signal),
        })
      if (ctx.dryRun) {
        for (const p of prepared)
          ctx.print(`would revert ${p.t.file.display}: ${p.section.statements.length} statement(s)`)
        return 0
      }
      const reverted: string[] = []
      for (const { t, section } of prepared) {
        const texts = t.file.noTransaction
          ? [...section.statements.map((s) => s.sql), ledger.removeSql(t.file)]
          : ['begin', ...section.statements.map((s) => s.sql), ledger.removeSql(t.file), 'commit']
        const { failedAt, error } = await session.pipeline(texts)
        if (failedAt !== -1) {
          await session.run('rollback').catch(() => {})
          const s = section.statements[t.file.noTransaction ? failedAt : failedAt - 1]
          throw new DbopsError(
            'MIGRATION_DOWN_FAILED',
            `${t.file.display}${s ? `:${s.line}:${s.column}` : ''}: ${error?.message}; the down section was rolled back${reverted.length ? ` (${reverted.join(', ')} already reverted)` : ''}`,
          )
        }
        reverted.push(t.file.display)
      }
      if (ctx.json) ctx.printJson({ status: 'ok', reverted })
      else for (const r of reverted) ctx.print(`reverted ${r}`)
      return 0
    },
  )
}

/**
 * `dbops migrate repair`: records the current checksum of drifted files (after a deliberate,
 * harmless edit), and of the applied part of an edited part-way no-transaction file.
 */
export async function repairCommand(ctx: CommandContext, options: MigrateOptions): Promise<number> {
  if (options.ledger === 'prisma')
    throw new UsageError(
      'repair is not available with the Prisma ledger: Prisma never rewrites a checksum',
    )
  return withMigrationSession(
    ctx,
    options,
    { lock: !ctx.dryRun },
    async ({ session, ledger, set }) => {
      const status = computeStatus(set, await ledger.load(session), ledger, false)
      const repairs = status.drifted.map(({ file }) => ({ file, sql: ledger.repairSql!(file) }))
      for (const { file, row } of status.partial.filter((p) => p.edited)) {
        const section = await prepareSection(file, file.up, options.placeholders, ctx.signal)
        repairs.push({
          file,
          sql: ledger.repairSql!(
            file,
            appliedPartChecksum(file, section.statements).upTo(row.statementsApplied ?? 0),
          ),
        })
      }
      if (!ctx.dryRun && repairs.length)
        await session.run(['begin', ...repairs.map((r) => r.sql), 'commit'].join(';\n'))
      const files = repairs.map((r) => r.file.display)
      if (ctx.json) ctx.printJson({ status: 'ok', dryRun: ctx.dryRun, repaired: files })
      else
        ctx.print(
          files.length
            ? `${ctx.dryRun ? 'would record' : 'recorded'} new checksums of ${files.join(', ')}`
            : 'no drifted file',
        )
      return 0
    },
  )
}
