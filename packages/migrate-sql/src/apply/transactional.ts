import { DbopsError, sleep } from 'dbops/plugin'
import type { Ledger } from '../ledger/types.ts'
import type { MigrateOptions } from '../options.ts'
import type { MigrationSession, PgError } from '../session.ts'
import type { PreparedStatement } from '../sql/prepare.ts'
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

/**
 * Characters of SQL per message for one large transactional file. Each message is a round
 * trip, all in the one transaction; it bounds what the client holds at once (the message,
 * and postgres.js' result for each statement in it) for a data file of 100k INSERTs.
 */
const MESSAGE_CHARS = 1024 * 1024

interface MessagePart {
  text: string
  /** Where each statement starts in `text`, to map an error position back to it. */
  starts: number[]
  /** Index of the part's first statement in the file. */
  first: number
}

/** A statement that failed, and its error with the position made relative to the statement. */
interface Located {
  statement: PreparedStatement | undefined
  error: PgError
}

/** BEGIN, the settings, the statements, the ledger record and COMMIT, as messages of at most about `maxChars`. */
function* transactionParts(
  w: Work,
  ledger: Ledger,
  options: MigrateOptions,
  maxChars = MESSAGE_CHARS,
): Generator<MessagePart> {
  const statements = w.section.statements
  let part: MessagePart = { text: `begin;\n${settingsSql(options, true)};\n`, starts: [], first: 0 }
  for (let i = 0; i < statements.length; i++) {
    const sql = statements[i]!.sql
    if (part.starts.length && part.text.length + sql.length > maxChars) {
      yield part
      part = { text: '', starts: [], first: i }
    }
    part.starts.push(part.text.length)
    // A statement may end in a -- comment (`values (1) -- last row` before its semicolon): end the line first.
    part.text += sql.includes('--') ? `${sql}\n;\n` : `${sql};\n`
  }
  part.text += `${ledger.recordSql(w.file, statements.length)};\ncommit`
  yield part
}

function transactionText(w: Work, ledger: Ledger, options: MigrateOptions): string {
  return transactionParts(w, ledger, options, Infinity).next().value!.text
}

/**
 * Several transactional files in one message, each still in its own BEGIN ... COMMIT:
 * Postgres commits them one by one and stops at the first error, abandoning the rest of
 * the message. On an error, the files that committed are read back from the ledger and
 * the rest go through the one-file path, which retries lock timeouts and names the
 * failing statement. Returns the files applied, in order.
 */
export async function applyBatch(run: ApplyRun, batch: Work[]): Promise<AppliedFile[]> {
  const { session, ledger, options, ctx } = run
  const t0 = performance.now()
  const text = batch.map((w) => transactionText(w, ledger, options)).join(';\n')
  try {
    await session.run(text)
    const each = (performance.now() - t0) / batch.length
    return batch.map((w) => appliedFile(w, each, 0))
  } catch (error) {
    if (ctx.signal.aborted || error instanceof DbopsError) throw error
    await session.run('rollback').catch(() => {})
    const rows = await ledger.load(session)
    const byName = new Map(rows.map((r) => [r.name, r]))
    const committed: AppliedFile[] = []
    for (const w of batch) {
      const row = byName.get(w.file.ledgerName)
      if (!row?.finished || !ledger.matches(row, w.file)) break
      committed.push(appliedFile(w, 0, 0))
    }
    return committed
  }
}

/**
 * A transactional file in one round trip: BEGIN, the settings, the file's statements, the
 * ledger record and COMMIT go to the server as one simple-query message (a few, in the same
 * transaction, for a file of megabytes). When it fails, the error's position (or, for errors
 * without one, a diagnosis run of the statements one by one in a transaction that is rolled
 * back) names the statement. A lock timeout rolls the file back and retries it with backoff.
 */
export async function applyTransactional(
  run: ApplyRun,
  w: Work,
  appliedBefore: number,
): Promise<AppliedFile> {
  const { session, options, ctx } = run
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now()
    const failed = await sendTransaction(run, w)
    if (!failed) return appliedFile(w, performance.now() - t0, attempt)
    await session.run('rollback').catch(() => {})
    const { error } = failed
    if (error.code === LOCK_NOT_AVAILABLE && attempt < options.lockRetries) {
      const wait = backoffMs(options, attempt)
      ctx.logger.warn(
        `${w.file.display}: lock timeout (${error.message}); rolled back, retry ${attempt + 1}/${options.lockRetries} in ${wait}ms`,
      )
      await sleep(wait, ctx.signal)
      continue
    }
    const located =
      locateByPosition(w, failed.part, error) ??
      (await diagnose(session, w.section.statements, options, error))
    const blockers = error.code === LOCK_NOT_AVAILABLE ? await openTransactions(session) : ''
    const before = appliedBefore
      ? `; the ${appliedBefore} file(s) before it in this run stay applied`
      : ''
    throw failure(
      w,
      located.statement,
      located.error,
      `the file was rolled back${before}${blockers}`,
      attempt,
    )
  }
}

/** Sends the file's messages; returns the server's error and the message it failed in, if it failed. */
async function sendTransaction(
  run: ApplyRun,
  w: Work,
): Promise<{ error: PgError; part: MessagePart } | undefined> {
  let part: MessagePart | undefined
  try {
    for (part of transactionParts(w, run.ledger, run.options)) await run.session.run(part.text)
    return undefined
  } catch (error) {
    if (run.ctx.signal.aborted || error instanceof DbopsError) throw error
    return { error: error as PgError, part: part! }
  }
}

/** The statement an error position points into, when the server gave a position. */
function locateByPosition(w: Work, part: MessagePart, error: PgError): Located | undefined {
  const position = Number(error.position ?? 0)
  if (position <= 0) return undefined
  let index = -1
  for (let i = 0; i < part.starts.length; i++) if (part.starts[i]! <= position - 1) index = i
  const statement = index === -1 ? undefined : w.section.statements[part.first + index]
  if (!statement) return { statement, error }
  return {
    statement,
    error: { ...error, message: error.message, position: String(position - part.starts[index]!) },
  }
}

/** Runs the statements one by one in a transaction that is rolled back, to find the one that fails. */
async function diagnose(
  session: MigrationSession,
  statements: PreparedStatement[],
  options: MigrateOptions,
  original: PgError,
): Promise<Located> {
  try {
    await session.run(`begin; ${settingsSql(options, true)}`)
    for (const s of statements) {
      try {
        await session.run(s.sql)
      } catch (e) {
        const error = e as PgError
        return { statement: s, error: error.code === original.code ? error : original }
      }
    }
    return { statement: undefined, error: original }
  } catch {
    return { statement: undefined, error: original }
  } finally {
    await session.run('rollback').catch(() => {})
  }
}
