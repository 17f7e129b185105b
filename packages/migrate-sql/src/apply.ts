import { DbopsError, type Context } from 'dbops/plugin'
import { prepareWork } from './apply/prepare-work.ts'
import { applyStatementByStatement } from './apply/statement-by-statement.ts'
import { applyBatch, applyTransactional } from './apply/transactional.ts'
import { refuseUnsafeState } from './apply/unsafe-state.ts'
import { batches, type AppliedFile, type ApplyRun, type Work } from './apply/work.ts'
import { formatFinding, lintMigrations, type Finding } from './lint/lint.ts'
import type { MigrateOptions } from './options.ts'
import { withMigrationSession } from './runner.ts'
import { computeStatus } from './status.ts'

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

/**
 * `migrate:apply` and `dbops migrate apply`: everything pending, under the migration lock.
 * Every file is parsed, checked and linted before the first one runs; under --dry-run the
 * plan is returned instead.
 */
export async function applyMigrations(
  ctx: Context,
  options: MigrateOptions,
  flags: ApplyFlags,
  progress?: (line: string) => void,
): Promise<ApplyResult> {
  const started = performance.now()
  return withMigrationSession(
    ctx,
    options,
    { lock: !ctx.dryRun },
    async ({ session, ledger, set, lockWaitMs }) => {
      if (!ctx.dryRun) await ledger.ensure(session)
      const rows = await ledger.load(session)
      const status = computeStatus(set, rows, ledger, options.ledger === 'prisma')
      refuseUnsafeState(status, ledger, options, flags)
      const work = await prepareWork(status, ledger, options, flags, ctx)
      const findings =
        options.lint.beforeApply && !flags.skipLint
          ? await lintMigrations(work, lintSettings(options), session, ctx.signal)
          : []
      const result: ApplyResult = {
        ledger: ledger.display,
        applied: [],
        upToDate: status.applied.length + status.repeatableApplied.length,
        lockWaitMs,
        durationMs: 0,
        findings,
        ...(ctx.dryRun ? { plan: planLines(work, findings) } : {}),
      }
      if (!ctx.dryRun) {
        refuseLintErrors(findings)
        result.applied = await applyWork({ session, ledger, options, ctx }, work, progress)
      }
      result.durationMs = Math.round(performance.now() - started)
      return result
    },
  )
}

export function lintSettings(options: MigrateOptions) {
  return {
    disable: options.lint.disable,
    smallTableBytes: options.lint.smallTableBytes,
    largeTableBytes: options.lint.largeTableBytes,
    runnerLockTimeout: options.lockTimeout > 0,
  }
}

function refuseLintErrors(findings: Finding[]): void {
  const blocking = findings.filter((f) => f.severity === 'error')
  if (!blocking.length) return
  throw new DbopsError(
    'MIGRATION_LINT_FAILED',
    `the pre-apply lint found ${blocking.length} problem(s); nothing was applied:\n${blocking.map(formatFinding).join('\n')}`,
    {
      hint: 'Follow each fix, or mark a deliberate exception with `-- dbops:lint-ignore <rule>` above the statement.',
    },
  )
}

/**
 * The files in order: consecutive transactional files in one message each batch, and from
 * the first file of a batch that failed, one file at a time (which retries and names the
 * failing statement).
 */
async function applyWork(
  run: ApplyRun,
  work: Work[],
  progress?: (line: string) => void,
): Promise<AppliedFile[]> {
  const applied: AppliedFile[] = []
  for (const batch of batches(work)) {
    run.ctx.signal.throwIfAborted()
    const last = batch.length > 1 ? ` .. ${batch.at(-1)!.file.display}` : ''
    progress?.(`${batch[0]!.file.display}${last} (${applied.length + batch.length}/${work.length})`)
    let rest = batch
    if (batch.length > 1) {
      const done = await applyBatch(run, batch)
      applied.push(...done)
      rest = batch.slice(done.length)
    }
    for (const w of rest) {
      applied.push(
        w.transactional
          ? await applyTransactional(run, w, applied.length)
          : await applyStatementByStatement(run, w),
      )
    }
  }
  return applied
}

function planLines(work: Work[], findings: Finding[]): string[] {
  if (!work.length) return ['nothing to apply: the database is up to date']
  const lines = work.map((w) => {
    const n = w.section.statements.length
    const mode = w.transactional ? 'in one transaction' : 'statement by statement, no transaction'
    const resume = w.resuming ? `, resuming at statement ${w.resumeAt + 1}` : ''
    return `apply ${w.file.display}: ${n} statement${n === 1 ? '' : 's'} ${mode}${resume}${w.file.kind === 'repeatable' ? ' (repeatable, changed)' : ''}`
  })
  for (const f of findings.filter((f) => f.severity !== 'info'))
    lines.push(`lint ${f.severity}: ${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}`)
  return lines
}
