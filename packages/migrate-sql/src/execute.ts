import { DbopsError, quoteIdent, sleep, type Context } from 'dbops/plugin'
import { appliedPartChecksum } from './files/applied-part.ts'
import type { MigrationFile } from './files/migration-file.ts'
import { invalidIndexesOf, type InvalidIndex } from './invalid-indexes.ts'
import type { Ledger } from './ledger/types.ts'
import type { MigrateOptions } from './options.ts'
import type { MigrationSession, PgError } from './session.ts'
import type { PreparedSection, PreparedStatement } from './sql/prepare.ts'
import { literal } from './sql/quote.ts'

export interface AppliedFile {
  file: string
  version: string
  kind: 'versioned' | 'repeatable'
  transactional: boolean
  statements: number
  durationMs: number
  /** Retries after lock timeouts (SQLSTATE 55P03). */
  retries: number
  /** A no-transaction file resumed at this statement (0-based) after a killed or failed run. */
  resumedAt?: number
  /** Invalid indexes left by an interrupted CREATE INDEX CONCURRENTLY, dropped before the retry. */
  droppedInvalidIndexes?: string[]
  /** INVALID indexes on the tables this no-transaction file indexes, left by a failed build (an unnamed one cannot be dropped for the user). */
  invalidIndexes?: string[]
}

export interface Work {
  file: MigrationFile
  section: PreparedSection
  transactional: boolean
  resumeAt: number
  /** A no-transaction file a killed or failed run left part-way. */
  resuming: boolean
}

export function settingsSql(options: MigrateOptions, local: boolean): string {
  const scope = local ? 'set local' : 'set'
  return `${scope} lock_timeout = ${literal(`${Math.round(options.lockTimeout)}ms`)}; ${scope} statement_timeout = ${literal(`${Math.round(options.statementTimeout)}ms`)}`
}

const LOCK_NOT_AVAILABLE = '55P03'

function backoffMs(options: MigrateOptions, attempt: number): number {
  return Math.round(options.retryBackoff * 2 ** attempt * (0.75 + Math.random() / 2))
}

const BATCH_FILES = 100
const BATCH_BYTES = 512 * 1024

/** Consecutive transactional files, grouped for one message each; other files alone. */
export function batches(work: Work[]): Work[][] {
  const out: Work[][] = []
  let current: Work[] = []
  let bytes = 0
  for (const w of work) {
    const size = w.file.up.text.length
    if (
      !w.transactional ||
      current.length >= BATCH_FILES ||
      (current.length && bytes + size > BATCH_BYTES)
    ) {
      if (current.length) out.push(current)
      current = []
      bytes = 0
    }
    if (!w.transactional) {
      out.push([w])
      continue
    }
    current.push(w)
    bytes += size
  }
  if (current.length) out.push(current)
  return out
}

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
export async function applyBatch(
  session: MigrationSession,
  ledger: Ledger,
  batch: Work[],
  options: MigrateOptions,
  ctx: Context,
): Promise<AppliedFile[]> {
  const t0 = performance.now()
  const text = batch.map((w) => transactionText(w, ledger, options)).join(';\n')
  const applied = (w: Work, ms: number): AppliedFile => ({
    file: w.file.display,
    version: w.file.version,
    kind: w.file.kind,
    transactional: true,
    statements: w.section.statements.length,
    durationMs: ms,
    retries: 0,
  })
  try {
    await session.run(text)
    const each = Math.round((performance.now() - t0) / batch.length)
    return batch.map((w) => applied(w, each))
  } catch (error) {
    if (ctx.signal.aborted || error instanceof DbopsError) throw error
    await session.run('rollback').catch(() => {})
    const rows = await ledger.load(session)
    const byName = new Map(rows.map((r) => [r.name, r]))
    const committed: AppliedFile[] = []
    for (const w of batch) {
      const row = byName.get(w.file.ledgerName)
      if (!row?.finished || !ledger.matches(row, w.file)) break
      committed.push(applied(w, 0))
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
  session: MigrationSession,
  ledger: Ledger,
  w: Work,
  options: MigrateOptions,
  ctx: Context,
  appliedBefore: number,
): Promise<AppliedFile> {
  const statements = w.section.statements
  for (let attempt = 0; ; attempt++) {
    const t0 = performance.now()
    let error: PgError
    let failed: MessagePart | undefined
    try {
      for (const part of transactionParts(w, ledger, options)) {
        failed = part
        await session.run(part.text)
      }
      return {
        file: w.file.display,
        version: w.file.version,
        kind: w.file.kind,
        transactional: true,
        statements: statements.length,
        durationMs: Math.round(performance.now() - t0),
        retries: attempt,
      }
    } catch (e) {
      if (ctx.signal.aborted || e instanceof DbopsError) throw e
      error = e as PgError
    }
    await session.run('rollback').catch(() => {})
    if (error.code === LOCK_NOT_AVAILABLE && attempt < options.lockRetries) {
      const wait = backoffMs(options, attempt)
      ctx.logger.warn(
        `${w.file.display}: lock timeout (${error.message}); rolled back, retry ${attempt + 1}/${options.lockRetries} in ${wait}ms`,
      )
      await sleep(wait, ctx.signal)
      continue
    }
    let located: { statement: PreparedStatement | undefined; error: PgError }
    const position = Number(error.position ?? 0)
    if (position > 0 && failed) {
      const starts = failed.starts
      let index = -1
      for (let i = 0; i < starts.length; i++) if (starts[i]! <= position - 1) index = i
      const statement = index === -1 ? undefined : statements[failed.first + index]
      located = {
        statement,
        error: statement
          ? ({
              ...error,
              message: error.message,
              position: String(position - starts[index]!),
            } as PgError)
          : error,
      }
    } else {
      located = await diagnose(session, statements, options, error)
    }
    const blockers = error.code === LOCK_NOT_AVAILABLE ? await openTransactions(session) : ''
    throw failure(
      w,
      located.statement,
      located.error,
      `the file was rolled back${appliedBefore ? `; the ${appliedBefore} file(s) before it in this run stay applied` : ''}${blockers}`,
      attempt,
    )
  }
}

/** Runs the statements one by one in a transaction that is rolled back, to find the one that fails. */
async function diagnose(
  session: MigrationSession,
  statements: PreparedStatement[],
  options: MigrateOptions,
  original: PgError,
): Promise<{ statement: PreparedStatement | undefined; error: PgError }> {
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

/**
 * A `-- dbops:no-transaction` file: statement by statement, each committed on its own,
 * progress recorded in the ledger after each so a killed or failed run resumes where it
 * stopped. Before (re)running CREATE INDEX CONCURRENTLY, an INVALID index of that name —
 * what an interrupted build leaves — is dropped.
 */
export async function applyStatementByStatement(
  session: MigrationSession,
  ledger: Ledger,
  w: Work,
  options: MigrateOptions,
  ctx: Context,
): Promise<AppliedFile> {
  const statements = w.section.statements
  const t0 = performance.now()
  const dropped: string[] = []
  const appliedPart = appliedPartChecksum(w.file, statements)
  // Prisma files may hold their own BEGIN ... COMMIT; a failure inside it leaves the session in that transaction.
  const ownTransactions = statements.some((s) => s.node.TransactionStmt)
  let retries = 0
  await ledger.started(session, w.file, statements.length, w.resumeAt, appliedPart.upTo(w.resumeAt))
  await session.run(settingsSql(options, false))
  try {
    for (let i = w.resumeAt; i < statements.length; i++) {
      const s = statements[i]!
      for (let attempt = 0; ; attempt++) {
        const index = await indexState(session, s)
        if (index?.valid === false) {
          ctx.logger.warn(
            `${w.file.display}: dropping invalid index ${index.name} left by an interrupted CREATE INDEX CONCURRENTLY`,
          )
          await session.run(`drop index concurrently if exists ${index.name}`)
          dropped.push(index.name)
        } else if (index?.valid && i === w.resumeAt && w.resuming) {
          ctx.logger.info(
            `${w.file.display}: index ${index.name} of the interrupted statement ${i + 1} was completed; going on`,
          )
          break
        }
        try {
          await session.run(s.sql)
          break
        } catch (error) {
          const e = error as PgError
          if (e.code === LOCK_NOT_AVAILABLE && attempt < options.lockRetries) {
            retries++
            const wait = backoffMs(options, attempt)
            ctx.logger.warn(
              `${w.file.display}: statement ${i + 1}: lock timeout; retry ${attempt + 1}/${options.lockRetries} in ${wait}ms`,
            )
            await sleep(wait, ctx.signal)
            continue
          }
          if (ctx.signal.aborted || error instanceof DbopsError) throw error
          if (ownTransactions) await session.run('rollback').catch(() => {})
          const blockers = e.code === LOCK_NOT_AVAILABLE ? await openTransactions(session) : ''
          const left = await invalidIndexesOf(session, statements).catch(() => [] as InvalidIndex[])
          const err = failure(
            w,
            s,
            e,
            `${partOutcome(w, ledger, i, statements.length)}${leftIndexes(left, statements)}${blockers}`,
            attempt,
            partHint(w, ledger, i),
          )
          await ledger.failed(session, w.file, err.message).catch(() => {})
          throw err
        }
      }
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
  return {
    file: w.file.display,
    version: w.file.version,
    kind: w.file.kind,
    transactional: false,
    statements: statements.length,
    durationMs: Math.round(performance.now() - t0),
    retries,
    ...(w.resuming ? { resumedAt: w.resumeAt } : {}),
    ...(dropped.length ? { droppedInvalidIndexes: dropped } : {}),
    ...(invalid.length ? { invalidIndexes: invalid.map((x) => x.index) } : {}),
  }
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

/** The oldest open transactions of the database: the likely holders of the lock a file could not get. */
async function openTransactions(session: MigrationSession): Promise<string> {
  const rows = await session
    .run<Array<{ pid: number; application_name: string; state: string; xact_start: Date }>>(
      `select pid, application_name, state, xact_start from pg_stat_activity
        where pid <> pg_backend_pid() and datname = current_database() and xact_start is not null and backend_type = 'client backend'
        order by xact_start limit 3`,
    )
    .catch(() => [])
  if (!rows.length) return ''
  return `. Open transactions that may hold it: ${rows.map((r) => `pid ${r.pid} ('${r.application_name}', ${r.state} since ${new Date(r.xact_start).toISOString()})`).join(', ')}`
}

async function indexState(
  session: MigrationSession,
  s: PreparedStatement,
): Promise<{ name: string; valid: boolean } | undefined> {
  const i = s.node.IndexStmt
  if (!i?.concurrent || !i.idxname) return undefined
  const schema = i.relation?.schemaname
  const name = schema ? `${quoteIdent(schema)}.${quoteIdent(i.idxname)}` : quoteIdent(i.idxname)
  const rows = await session.run<Array<{ name: string; valid: boolean }>>(
    `select c.oid::regclass::text as name, x.indisvalid as valid from pg_index x join pg_class c on c.oid = x.indexrelid where c.oid = to_regclass(${literal(name)})`,
  )
  return rows[0]
}

function failure(
  w: Work,
  s: PreparedStatement | undefined,
  e: PgError,
  outcome: string,
  retries: number,
  hint = 'Fix the statement and run again: applied files are skipped and this one runs again.',
): DbopsError {
  const position = Number(e.position ?? 0)
  const at = s
    ? position > 0
      ? w.section.locate(s.start + position - 1)
      : { line: s.line, column: s.column }
    : { line: 1, column: 1 }
  const sqlstate = e.code ? ` (SQLSTATE ${e.code})` : ''
  const detail = [e.detail && `detail: ${e.detail}`, e.hint && `postgres hint: ${e.hint}`]
    .filter(Boolean)
    .join('; ')
  const tried = e.code === LOCK_NOT_AVAILABLE ? ` after ${retries + 1} attempts` : ''
  return new DbopsError(
    'MIGRATION_FAILED',
    `${w.file.display}:${at.line}:${at.column}: ${e.message}${sqlstate}${tried}${detail ? ` — ${detail}` : ''}; ${outcome}`,
    {
      hint:
        e.code === LOCK_NOT_AVAILABLE
          ? 'Another session held a conflicting lock for longer than lockTimeout each time: look for long transactions in pg_stat_activity, or raise lockTimeout/lockRetries.'
          : hint,
      cause: e,
    },
  )
}
