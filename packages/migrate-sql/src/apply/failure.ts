import { DbopsError } from 'dbops/plugin'
import type { MigrationSession, PgError } from '../session.ts'
import type { PreparedStatement } from '../sql/prepare.ts'
import { LOCK_NOT_AVAILABLE, type Work } from './work.ts'

const OPEN_TRANSACTIONS = `
  select pid, application_name, state, xact_start from pg_stat_activity
   where pid <> pg_backend_pid() and datname = current_database() and xact_start is not null and backend_type = 'client backend'
   order by xact_start limit 3`

/** The oldest open transactions of the database: the likely holders of the lock a file could not get. */
export async function openTransactions(session: MigrationSession): Promise<string> {
  const rows = await session
    .run<Array<{ pid: number; application_name: string; state: string; xact_start: Date }>>(
      OPEN_TRANSACTIONS,
    )
    .catch(() => [])
  if (!rows.length) return ''
  return `. Open transactions that may hold it: ${rows.map((r) => `pid ${r.pid} ('${r.application_name}', ${r.state} since ${new Date(r.xact_start).toISOString()})`).join(', ')}`
}

/**
 * A failed file as `file:line:column: the server's message (SQLSTATE)`, what it left
 * (`outcome`) and what to do. The line and column are the statement's, or the error
 * position's within it.
 */
export function failure(
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
