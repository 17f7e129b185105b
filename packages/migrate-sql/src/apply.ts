import { DbopsError, ExitCode, type Context } from 'dbops/plugin'
import { applyBatch, applyStatementByStatement, applyTransactional, batches, type AppliedFile, type Work } from './execute.ts'
import type { Ledger } from './ledger/types.ts'
import { formatFinding, lintMigrations, type Finding } from './lint/lint.ts'
import type { MigrateOptions } from './options.ts'
import { withMigrationSession } from './runner.ts'
import { isTransactionControl, needsNoTransaction, prepareSection } from './sql/prepare.ts'
import { computeStatus, type MigrationStatus } from './status.ts'

export type { AppliedFile }

export interface ApplyFlags {
  allowOutOfOrder?: boolean
  allowMissing?: boolean
  /** Skip the pre-apply lint. */
  skipLint?: boolean
  /** Apply versioned files up to and including this version only. */
  to?: string
}

export interface ApplyResult {
  ledger: string
  applied: AppliedFile[]
  /** Files already applied, unchanged. */
  upToDate: number
  lockWaitMs: number
  durationMs: number
  findings: Finding[]
  /** Under --dry-run: what would run. */
  plan?: string[]
}

/** `migrate:apply` and `dbops migrate apply`: everything pending, under the migration lock. */
export async function applyMigrations(ctx: Context, options: MigrateOptions, flags: ApplyFlags, progress?: (line: string) => void): Promise<ApplyResult> {
  const started = performance.now()
  return withMigrationSession(ctx, options, { lock: !ctx.dryRun }, async ({ session, ledger, set, lockWaitMs }) => {
    if (!ctx.dryRun) await ledger.ensure(session)
    const rows = await ledger.load(session)
    const status = computeStatus(set, rows, ledger, options.ledger === 'prisma')
    refuseUnsafeState(status, ledger, options, flags)
    const work = prepareWork(status, options, flags)
    const findings = options.lint.beforeApply && !flags.skipLint ? await lintMigrations(work, lintSettings(options), session) : []
    const blocking = findings.filter((f) => f.severity === 'error')
    const result: ApplyResult = { ledger: ledger.display, applied: [], upToDate: status.applied.length + status.repeatableApplied.length, lockWaitMs, durationMs: 0, findings }
    if (ctx.dryRun) {
      result.plan = planLines(work, findings)
      result.durationMs = Math.round(performance.now() - started)
      return result
    }
    if (blocking.length) {
      throw new DbopsError('MIGRATION_LINT_FAILED', `the pre-apply lint found ${blocking.length} problem(s); nothing was applied:\n${blocking.map(formatFinding).join('\n')}`, {
        hint: 'Follow each fix, or mark a deliberate exception with `-- dbops:lint-ignore <rule>` above the statement.',
      })
    }
    for (const batch of batches(work)) {
      ctx.signal.throwIfAborted()
      progress?.(`${batch[0]!.file.display}${batch.length > 1 ? ` .. ${batch.at(-1)!.file.display}` : ''} (${result.applied.length + batch.length}/${work.length})`)
      if (batch.length > 1) {
        const done = await applyBatch(session, ledger, batch, options, ctx)
        result.applied.push(...done)
        if (done.length === batch.length) continue
        batch.splice(0, done.length)
      }
      for (const w of batch) {
        const done = w.transactional ? await applyTransactional(session, ledger, w, options, ctx, result.applied.length) : await applyStatementByStatement(session, ledger, w, options, ctx)
        result.applied.push(done)
      }
    }
    result.durationMs = Math.round(performance.now() - started)
    return result
  })
}

export function lintSettings(options: MigrateOptions) {
  return { disable: options.lint.disable, smallTableBytes: options.lint.smallTableBytes, largeTableBytes: options.lint.largeTableBytes, runnerLockTimeout: options.lockTimeout > 0 }
}

function refuseUnsafeState(status: MigrationStatus, ledger: Ledger, options: MigrateOptions, flags: ApplyFlags): void {
  if (status.drifted.length) {
    const list = status.drifted.map((d) => d.file.display).join(', ')
    throw new DbopsError('MIGRATION_DRIFT', `${status.drifted.length} applied migration file(s) changed since they were applied: ${list}`, {
      hint: 'Restore the applied version (git log -p <file>) and put the change in a new migration; if the edit is deliberate and already true of the database, run `dbops migrate repair`.',
    })
  }
  if (status.missing.length && !(flags.allowMissing || options.allowMissing)) {
    throw new DbopsError('MIGRATION_MISSING', `${status.missing.length} applied migration(s) are missing from disk: ${status.missing.map((r) => r.name).join(', ')}`, {
      hint: `Restore the file(s) (another branch may have them), or pass --allow-missing to go on without them. The ledger is ${ledger.display}.`,
    })
  }
  const outOfOrder = status.outOfOrder.filter((f) => !flags.to || f.order <= BigInt(flags.to))
  if (outOfOrder.length && !(flags.allowOutOfOrder || options.outOfOrder)) {
    throw new DbopsError('MIGRATION_OUT_OF_ORDER', `${outOfOrder.length} pending migration(s) are older than the newest applied one: ${outOfOrder.map((f) => f.display).join(', ')}`, {
      hint: 'Usually a branch merged late. Renumber the file after the newest applied one (dbops migrate new), or pass --allow-out-of-order if it is independent of later migrations.',
    })
  }
  const stuck = status.partial.filter((p) => p.row.statementsApplied === null)
  if (stuck.length) {
    throw new DbopsError('MIGRATION_UNFINISHED', `migration ${stuck.map((p) => p.file.display).join(', ')} was started and never finished (its ledger row has no finished_at)`, {
      hint: 'Check what it changed. Then mark it rolled back (prisma migrate resolve --rolled-back <name>) to run it again, or applied (--applied) to skip it.',
    })
  }
}

function prepareWork(status: MigrationStatus, options: MigrateOptions, flags: ApplyFlags): Work[] {
  const limit = flags.to ? BigInt(flags.to) : undefined
  const versioned = [...status.partial.map((p) => ({ file: p.file, resumeAt: p.row.statementsApplied ?? 0, resuming: true })), ...status.pending.map((file) => ({ file, resumeAt: 0, resuming: false }))]
    .filter((w) => limit === undefined || w.file.order <= limit)
    .sort((a, b) => (a.file.order < b.file.order ? -1 : a.file.order > b.file.order ? 1 : 0))
  const repeatable = limit === undefined ? status.repeatablePending.map((file) => ({ file, resumeAt: 0, resuming: false })) : []
  return [...versioned, ...repeatable].map(({ file, resumeAt, resuming }) => {
    const section = prepareSection(file, file.up, options.placeholders)
    const needsOut = section.statements.map((s) => [s, needsNoTransaction(s)] as const).find(([, why]) => why)
    // Prisma's own runner executes migration.sql statement by statement; keep that for its files.
    const transactional = !file.noTransaction && !(file.prismaLayout && needsOut)
    if (transactional && needsOut) {
      const [s, why] = needsOut
      throw new DbopsError('MIGRATION_NEEDS_NO_TRANSACTION', `${file.display}:${s.line}:${s.column}: ${why} cannot run inside a transaction, and this file runs in one`, {
        hint: 'Put `-- dbops:no-transaction` at the top of the file (and keep such statements in files of their own); nothing was applied.',
        exitCode: ExitCode.failed,
      })
    }
    const control = transactional ? section.statements.find(isTransactionControl) : undefined
    if (control) {
      throw new DbopsError('MIGRATION_TRANSACTION_CONTROL', `${file.display}:${control.line}:${control.column}: transaction control (${control.sql.split(/\s/)[0]}) inside a file dbops already runs in one transaction`, {
        hint: 'Remove BEGIN/COMMIT from the file, or mark it `-- dbops:no-transaction`; nothing was applied.',
      })
    }
    return { file, section, transactional, resumeAt, resuming }
  })
}

function planLines(work: Work[], findings: Finding[]): string[] {
  if (!work.length) return ['nothing to apply: the database is up to date']
  const lines = work.map((w) => {
    const n = w.section.statements.length
    const mode = w.transactional ? 'in one transaction' : 'statement by statement, no transaction'
    const resume = w.resuming ? `, resuming at statement ${w.resumeAt + 1}` : ''
    return `apply ${w.file.display}: ${n} statement${n === 1 ? '' : 's'} ${mode}${resume}${w.file.kind === 'repeatable' ? ' (repeatable, changed)' : ''}`
  })
  for (const f of findings.filter((f) => f.severity !== 'info')) lines.push(`lint ${f.severity}: ${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}`)
  return lines
}

