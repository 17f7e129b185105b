import { DbopsError, ExitCode, type Context } from 'dbops/plugin'
import type { ApplyFlags } from '../apply.ts'
import { cooperate } from '../cooperate.ts'
import { appliedPartChecksum } from '../files/applied-part.ts'
import { precomputeChecksum, type MigrationFile } from '../files/migration-file.ts'
import { filesUpTo } from '../files/up-to.ts'
import type { Ledger } from '../ledger/types.ts'
import type { MigrateOptions } from '../options.ts'
import {
  isTransactionControl,
  needsNoTransaction,
  prepareSection,
  switchesClientEncoding,
  type PreparedSection,
} from '../sql/prepare.ts'
import type { MigrationStatus } from '../status.ts'
import type { Work } from './work.ts'

/** A file to prepare: where it starts, and the ledger row of a part-way run. */
interface Pending {
  file: MigrationFile
  resumeAt: number
  resuming: boolean
  partial?: MigrationStatus['partial'][number]
}

/** Every pending file parsed, checked and checksummed before the first one runs. */
export async function prepareWork(
  status: MigrationStatus,
  ledger: Ledger,
  options: MigrateOptions,
  flags: ApplyFlags,
  ctx: Context,
): Promise<Work[]> {
  const work: Work[] = []
  for (const pending of pendingInOrder(status, flags)) {
    const { file, resumeAt, resuming, partial } = pending
    if (file.text.length > 1024 * 1024)
      ctx.logger.info(
        `preparing ${file.display} (${(file.text.length / 1024 / 1024).toFixed(1)} MB)`,
      )
    const section = await prepareSection(file, file.up, options.placeholders, ctx.signal)
    const transactional = runsInTransaction(file, section)
    if (partial?.edited && ledger.kind === 'dbops')
      assertAppliedPartUnchanged(file, section, resumeAt, partial.row.checksum, ctx)
    if (ledger.kind === 'dbops' && !ctx.dryRun) await precomputeChecksum(file, ctx.signal)
    work.push({ file, section, transactional, resumeAt, resuming })
    await cooperate(ctx.signal)
  }
  return work
}

/**
 * Part-way and pending versioned files in rank order (up to `--to`), then the changed
 * repeatable files (none with `--to`).
 */
function pendingInOrder(status: MigrationStatus, flags: ApplyFlags): Pending[] {
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
  const versioned: Pending[] = [
    ...status.partial.map((p) => ({
      file: p.file,
      resumeAt: p.row.statementsApplied ?? 0,
      resuming: true,
      partial: p,
    })),
    ...status.pending.map((file) => ({ file, resumeAt: 0, resuming: false })),
  ]
    .filter((w) => !upTo || upTo.has(w.file))
    .sort((a, b) => a.file.rank - b.file.rank)
  const repeatable = upTo
    ? []
    : status.repeatablePending.map((file) => ({ file, resumeAt: 0, resuming: false }))
  return [...versioned, ...repeatable]
}

/**
 * Whether the file runs in one transaction, after refusing what cannot run as the file is
 * marked: CONCURRENTLY and friends in a transactional file, SET client_encoding, and
 * BEGIN/COMMIT inside a file dbops wraps in a transaction.
 */
function runsInTransaction(file: MigrationFile, section: PreparedSection): boolean {
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
  return transactional
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
