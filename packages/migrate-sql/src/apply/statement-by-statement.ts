import { DbopsError, quoteIdent, sleep } from 'dbops/plugin'
import { appliedPartChecksum } from '../files/applied-part.ts'
import { invalidIndexesOf, type InvalidIndex } from '../invalid-indexes.ts'
import type { Ledger } from '../ledger/types.ts'
import type { MigrationSession, PgError } from '../session.ts'
import type { PreparedStatement } from '../sql/prepare.ts'
import { literal } from '../sql/quote.ts'
import { failure, openTransactions } from './failure.ts'
import {
  appliedFile,
  backoffMs,
  LOCK_NOT_AVAILABLE,
  settingsSql,
  type AppliedFile,
  type ApplyRun,
  type Work,
} from './work.ts'

/** What a no-transaction file's run has done so far, beyond the ledger's count. */
interface Progress {
  retries: number
  /** INVALID indexes of an interrupted build, dropped before their statement ran again. */
  dropped: string[]
}

const INDEX_STATE = (name: string) =>
  `select c.oid::regclass::text as name, x.indisvalid as valid from pg_index x join pg_class c on c.oid = x.indexrelid where c.oid = to_regclass(${literal(name)})`

/**
 * A `-- dbops:no-transaction` file: statement by statement, each committed on its own,
 * progress recorded in the ledger after each so a killed or failed run resumes where it
 * stopped. Before (re)running CREATE INDEX CONCURRENTLY, an INVALID index of that name —
 * what an interrupted build leaves — is dropped.
 */
export async function applyStatementByStatement(run: ApplyRun, w: Work): Promise<AppliedFile> {
  const { session, ledger, options, ctx } = run
  const statements = w.section.statements
  const t0 = performance.now()
  const progress: Progress = { retries: 0, dropped: [] }
  const appliedPart = appliedPartChecksum(w.file, statements)
  await ledger.started(session, w.file, statements.length, w.resumeAt, appliedPart.upTo(w.resumeAt))
  await session.run(settingsSql(options, false))
  try {
    for (let i = w.resumeAt; i < statements.length; i++) {
      await runStatement(run, w, i, progress)
      await ledger.progress(session, w.file, i + 1, appliedPart.upTo(i + 1))
    }
    await ledger.finished(session, w.file, performance.now() - t0)
  } finally {
    await session.run('reset lock_timeout; reset statement_timeout').catch(() => {})
  }
  const invalid = await invalidIndexesOf(session, statements)
  for (const x of invalid) {
    ctx.logger.warn(
      `${w.file.display}: ${x.index} on ${x.table} is INVALID, left by a failed CREATE INDEX CONCURRENTLY: queries do not use it but every write maintains it; drop it with DROP INDEX CONCURRENTLY ${x.index}`,
    )
  }
  return appliedFile(w, performance.now() - t0, progress.retries, {
    ...(w.resuming ? { resumedAt: w.resumeAt } : {}),
    ...(progress.dropped.length ? { droppedInvalidIndexes: progress.dropped } : {}),
    ...(invalid.length ? { invalidIndexes: invalid.map((x) => x.index) } : {}),
  })
}

/**
 * Statement `i`, retried after lock timeouts. A CREATE INDEX CONCURRENTLY first drops the
 * INVALID index an interrupted build of it left, or, when the interrupted statement's build
 * completed anyway, counts as done. Any other error is recorded in the ledger and thrown.
 */
async function runStatement(run: ApplyRun, w: Work, i: number, progress: Progress): Promise<void> {
  const { session, options, ctx } = run
  const s = w.section.statements[i]!
  for (let attempt = 0; ; attempt++) {
    const index = await indexState(session, s)
    if (index?.valid === false) {
      ctx.logger.warn(
        `${w.file.display}: dropping invalid index ${index.name} left by an interrupted CREATE INDEX CONCURRENTLY`,
      )
      await session.run(`drop index concurrently if exists ${index.name}`)
      progress.dropped.push(index.name)
    } else if (index?.valid && i === w.resumeAt && w.resuming) {
      ctx.logger.info(
        `${w.file.display}: index ${index.name} of the interrupted statement ${i + 1} was completed; going on`,
      )
      return
    }
    try {
      await session.run(s.sql)
      return
    } catch (error) {
      const e = error as PgError
      if (e.code === LOCK_NOT_AVAILABLE && attempt < options.lockRetries) {
        progress.retries++
        const wait = backoffMs(options, attempt)
        ctx.logger.warn(
          `${w.file.display}: statement ${i + 1}: lock timeout; retry ${attempt + 1}/${options.lockRetries} in ${wait}ms`,
        )
        await sleep(wait, ctx.signal)
        continue
      }
      if (ctx.signal.aborted || error instanceof DbopsError) throw error
      throw await statementFailure(run, w, i, e, attempt)
    }
  }
}

/** The failure of statement `i`, recorded on the file's ledger row. */
async function statementFailure(
  run: ApplyRun,
  w: Work,
  i: number,
  e: PgError,
  attempt: number,
): Promise<DbopsError> {
  const { session, ledger } = run
  const statements = w.section.statements
  // Prisma files may hold their own BEGIN ... COMMIT; a failure inside it leaves the session in that transaction.
  if (statements.some((s) => s.node.TransactionStmt)) await session.run('rollback').catch(() => {})
  const blockers = e.code === LOCK_NOT_AVAILABLE ? await openTransactions(session) : ''
  const left = await invalidIndexesOf(session, statements).catch(() => [] as InvalidIndex[])
  const err = failure(
    w,
    statements[i],
    e,
    `${partOutcome(w, ledger, i, statements.length)}${leftIndexes(left, statements)}${blockers}`,
    attempt,
    partHint(w, ledger, i),
  )
  await ledger.failed(session, w.file, err.message).catch(() => {})
  return err
}

/** What a failure at statement `i` leaves, by ledger: dbops resumes at it, Prisma's ledger records a failed migration. */
function partOutcome(w: Work, ledger: Ledger, i: number, total: number): string {
  if (ledger.kind === 'prisma') {
    return `${i} of ${total} statements ran before it, and ${ledger.display} records ${w.file.ledgerName} as failed, as Prisma does: the next run stops until it is resolved`
  }
  return `${i} of ${total} statements of this no-transaction file are applied; the next run resumes at statement ${i + 1}`
}

function partHint(w: Work, ledger: Ledger, i: number): string {
  if (ledger.kind === 'prisma') {
    return `${i ? `Undo what statements 1–${i} did (or make them safe to run twice), then run` : 'Run'} \`prisma migrate resolve --rolled-back ${w.file.ledgerName}\` to have the file run again, or \`--applied\` if you finished it by hand.`
  }
  const applied =
    i === 0
      ? ''
      : i === 1
        ? ' Statement 1 is applied: leave it as it is.'
        : ` Statements 1–${i} are applied: leave them as they are.`
  return `Fix statement ${i + 1} (or anything after it) and run again: the run resumes there.${applied}`
}

function leftIndexes(left: InvalidIndex[], statements: PreparedStatement[]): string {
  if (!left.length) return ''
  const named = new Set(statements.map((s) => s.node.IndexStmt?.idxname).filter(Boolean))
  return left
    .map((x) =>
      named.has(x.index.split('.').pop()!.replace(/^"|"$/g, ''))
        ? `; the failed build left the INVALID index ${x.index}, which dbops drops before the retry`
        : `; the failed build left the INVALID index ${x.index} on ${x.table}: drop it with DROP INDEX CONCURRENTLY ${x.index} (a retry builds another one beside it: name the index in the file so that dbops can drop it for you)`,
    )
    .join('')
}

/** The index a named CREATE INDEX CONCURRENTLY builds, if it exists, and whether it is valid. */
async function indexState(
  session: MigrationSession,
  s: PreparedStatement,
): Promise<{ name: string; valid: boolean } | undefined> {
  const i = s.node.IndexStmt
  if (!i?.concurrent || !i.idxname) return undefined
  const schema = i.relation?.schemaname
  const name = schema ? `${quoteIdent(schema)}.${quoteIdent(i.idxname)}` : quoteIdent(i.idxname)
  const rows = await session.run<Array<{ name: string; valid: boolean }>>(INDEX_STATE(name))
  return rows[0]
}
