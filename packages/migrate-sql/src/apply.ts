import { DbopsError, ExitCode, type Context } from 'dbops/plugin'
import { cooperate } from './cooperate.ts'
import {
  applyBatch,
  applyStatementByStatement,
  applyTransactional,
  batches,
  type AppliedFile,
  type Work,
} from './execute.ts'
import { appliedPartChecksum } from './files/applied-part.ts'
import { filesUpTo } from './files/up-to.ts'
import { precomputeChecksum } from './files/migration-file.ts'
import type { MigrationFile } from './files/migration-file.ts'
import type { Ledger } from './ledger/types.ts'
import { formatFinding, lintMigrations, type Finding } from './lint/lint.ts'
import type { MigrateOptions } from './options.ts'
import { withMigrationSession } from './runner.ts'
import {
  isTransactionControl,
  needsNoTransaction,
  prepareSection,
  switchesClientEncoding,
  type PreparedSection,
} from './sql/prepare.ts'
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
      const blocking = findings.filter((f) => f.severity === 'error')
      const result: ApplyResult = {
        ledger: ledger.display,
        applied: [],
        upToDate: status.applied.length + status.repeatableApplied.length,
        lockWaitMs,
        durationMs: 0,
        findings,
      }
      if (ctx.dryRun) {
        result.plan = planLines(work, findings)
        result.durationMs = Math.round(performance.now() - started)
        return result
      }
      if (blocking.length) {
        throw new DbopsError(
          'MIGRATION_LINT_FAILED',
          `the pre-apply lint found ${blocking.length} problem(s); nothing was applied:\n${blocking.map(formatFinding).join('\n')}`,
          {
            hint: 'Follow each fix, or mark a deliberate exception with `-- dbops:lint-ignore <rule>` above the statement.',
          },
        )
      }
      for (const batch of batches(work)) {
        ctx.signal.throwIfAborted()
        progress?.(
          `${batch[0]!.file.display}${batch.length > 1 ? ` .. ${batch.at(-1)!.file.display}` : ''} (${result.applied.length + batch.length}/${work.length})`,
        )
        if (batch.length > 1) {
          const done = await applyBatch(session, ledger, batch, options, ctx)
          result.applied.push(...done)
          if (done.length === batch.length) continue
          batch.splice(0, done.length)
        }
        for (const w of batch) {
          const done = w.transactional
            ? await applyTransactional(session, ledger, w, options, ctx, result.applied.length)
            : await applyStatementByStatement(session, ledger, w, options, ctx)
          result.applied.push(done)
        }
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

function refuseUnsafeState(
  status: MigrationStatus,
  ledger: Ledger,
  options: MigrateOptions,
  flags: ApplyFlags,
): void {
  if (status.drifted.length) {
    const list = status.drifted.map((d) => d.file.display).join(', ')
    throw new DbopsError(
      'MIGRATION_DRIFT',
      `${status.drifted.length} applied migration file(s) changed since they were applied: ${list}`,
      {
        hint: 'Restore the applied version (git log -p <file>) and put the change in a new migration; if the edit is deliberate and already true of the database, run `dbops migrate repair`.',
      },
    )
  }
  if (status.missing.length && !(flags.allowMissing || options.allowMissing)) {
    throw new DbopsError(
      'MIGRATION_MISSING',
      `${status.missing.length} applied migration(s) are missing from disk: ${status.missing.map((r) => r.name).join(', ')}`,
      {
        hint: `Restore the file(s) (another branch may have them), or pass --allow-missing to go on without them. The ledger is ${ledger.display}.`,
      },
    )
  }
  const upTo =
    flags.to === undefined
      ? undefined
      : new Set(
          filesUpTo(
            [
              ...status.applied.map((a) => a.file),
              ...status.pending,
              ...status.partial.map((p) => p.file),
            ],
            flags.to,
          ),
        )
  const outOfOrder = status.outOfOrder.filter((f) => !upTo || upTo.has(f))
  if (outOfOrder.length && !(flags.allowOutOfOrder || options.outOfOrder)) {
    throw new DbopsError(
      'MIGRATION_OUT_OF_ORDER',
      `${outOfOrder.length} pending migration(s) are older than the newest applied one: ${outOfOrder.map((f) => f.display).join(', ')}`,
      {
        hint: 'Usually a branch merged late. Renumber the file after the newest applied one (dbops migrate new), or pass --allow-out-of-order if it is independent of later migrations.',
      },
    )
  }
  const stuck = status.partial.filter((p) => p.row.statementsApplied === null)
  if (stuck.length) {
    const name = stuck[0]!.file.ledgerName
    throw new DbopsError(
      'MIGRATION_UNFINISHED',
      `migration ${stuck.map((p) => p.file.display).join(', ')} was started and never finished (its ledger row has no finished_at)${stuck[0]!.row.error ? `; it failed with: ${stuck[0]!.row.error}` : ''}`,
      {
        hint: `Check what it changed. Then mark it rolled back (\`prisma migrate resolve --rolled-back ${name}\`) to run it again, or applied (\`--applied ${name}\`) to skip it.`,
      },
    )
  }
}

/** Every pending file parsed, checked and checksummed before the first one runs. */
async function prepareWork(
  status: MigrationStatus,
  ledger: Ledger,
  options: MigrateOptions,
  flags: ApplyFlags,
  ctx: Context,
): Promise<Work[]> {
  const all = [
    ...status.applied.map((a) => a.file),
    ...status.pending,
    ...status.partial.map((p) => p.file),
  ]
  const upTo = flags.to === undefined ? undefined : new Set(filesUpTo(all, flags.to))
  if (upTo && !upTo.size && !/^\d+$/.test(flags.to!)) {
    throw new DbopsError('MIGRATION_TO_UNKNOWN', `--to: no migration is named '${flags.to}'`, {
      hint: 'Give a folder name from `dbops migrate status`, or a version (digits).',
      exitCode: ExitCode.usage,
    })
  }
  const versioned = [
    ...status.partial.map((p) => ({
      file: p.file,
      resumeAt: p.row.statementsApplied ?? 0,
      resuming: true,
      partial: p,
    })),
    ...status.pending.map((file) => ({ file, resumeAt: 0, resuming: false, partial: undefined })),
  ]
    .filter((w) => !upTo || upTo.has(w.file))
    .sort((a, b) => a.file.rank - b.file.rank)
  const repeatable = upTo
    ? []
    : status.repeatablePending.map((file) => ({
        file,
        resumeAt: 0,
        resuming: false,
        partial: undefined,
      }))
  const work: Work[] = []
  for (const { file, resumeAt, resuming, partial } of [...versioned, ...repeatable]) {
    if (file.text.length > 1024 * 1024)
      ctx.logger.info(
        `preparing ${file.display} (${(file.text.length / 1024 / 1024).toFixed(1)} MB)`,
      )
    const section = await prepareSection(file, file.up, options.placeholders, ctx.signal)
    const needsOut = section.statements
      .map((s) => [s, needsNoTransaction(s)] as const)
      .find(([, why]) => why)
    // Prisma sends migration.sql as it is: its own BEGIN/COMMIT, and since prisma-engines#5767 statement by
    // statement, which CONCURRENTLY needs. Such Prisma files run statement by statement here too.
    const transactional =
      !file.noTransaction &&
      !(file.prismaLayout && (needsOut || section.statements.some(isTransactionControl)))
    if (transactional && needsOut) {
      const [s, why] = needsOut
      throw new DbopsError(
        'MIGRATION_NEEDS_NO_TRANSACTION',
        `${file.display}:${s.line}:${s.column}: ${why} cannot run inside a transaction, and this file runs in one`,
        {
          hint: 'Put `-- dbops:no-transaction` at the top of the file (and keep such statements in files of their own); nothing was applied.',
          exitCode: ExitCode.failed,
        },
      )
    }
    const encoding = section.statements.find(switchesClientEncoding)
    if (encoding) {
      throw new DbopsError(
        'MIGRATION_CLIENT_ENCODING',
        `${file.display}:${encoding.line}:${encoding.column}: SET client_encoding would make the server read what dbops sends next (UTF-8) in another encoding`,
        {
          hint: "Remove it, and declare the file's own encoding with a `-- dbops:encoding latin1` line instead: dbops decodes the file and sends UTF-8. Nothing was applied.",
        },
      )
    }
    const control = transactional ? section.statements.find(isTransactionControl) : undefined
    if (control) {
      throw new DbopsError(
        'MIGRATION_TRANSACTION_CONTROL',
        `${file.display}:${control.line}:${control.column}: transaction control (${control.sql.split(/\s/)[0]}) inside a file dbops already runs in one transaction`,
        {
          hint: 'Remove BEGIN/COMMIT from the file, or mark it `-- dbops:no-transaction`; nothing was applied.',
        },
      )
    }
    if (partial?.edited && ledger.kind === 'dbops')
      assertAppliedPartUnchanged(file, section, resumeAt, partial.row.checksum, ctx)
    if (ledger.kind === 'dbops' && !ctx.dryRun) await precomputeChecksum(file, ctx.signal)
    work.push({ file, section, transactional, resumeAt, resuming })
    await cooperate(ctx.signal)
  }
  return work
}

/**
 * A no-transaction file that failed part-way and was edited since: fine when the edit is to
 * statements that have not run (the usual fix of the one that failed), drift when it touches
 * one that has.
 */
function assertAppliedPartUnchanged(
  file: MigrationFile,
  section: PreparedSection,
  applied: number,
  recorded: string,
  ctx: Context,
): void {
  if (
    applied <= section.statements.length &&
    appliedPartChecksum(file, section.statements).upTo(applied) === recorded
  ) {
    ctx.logger.info(
      `${file.display}: edited since it stopped at statement ${applied + 1}; the ${applied} applied statement(s) are unchanged, so the run resumes there`,
    )
    return
  }
  const which =
    applied === 1
      ? 'statement 1 of this no-transaction file was applied and has changed since'
      : `statements 1–${applied} of this no-transaction file were applied, and the file has changed among them since`
  throw new DbopsError('MIGRATION_DRIFT', `${file.display}: ${which}; nothing was applied`, {
    hint: `Restore the applied statement(s) as they ran (git diff ${file.display}); edits from statement ${applied + 1} on are fine, the run resumes there. If the database already matches the edited statements, record them with \`dbops migrate repair\`.`,
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
  for (const f of findings.filter((f) => f.severity !== 'info'))
    lines.push(`lint ${f.severity}: ${f.file}:${f.line}:${f.column} ${f.rule}: ${f.message}`)
  return lines
}
