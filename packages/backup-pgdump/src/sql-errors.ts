import { DbopsError, isAbortError } from 'dbops/plugin'

interface PgError {
  code?: string
  message?: string
  hint?: string
}

/**
 * A server error of dbops's own queries (the snapshot, the row counts) as a sentence that
 * says what happened and what to do, instead of a bare SQLSTATE. `doing` completes
 * "... while <doing>": `counting the rows of 40 tables`.
 */
export function explainSqlError(error: unknown, doing: string): Error {
  if (error instanceof DbopsError || isAbortError(error)) return error as Error
  const e = (error ?? {}) as PgError
  const code = e.code
  if (!code || !/^[0-9A-Z]{5}$/.test(code)) return error as Error
  const said = `${e.message ?? 'error'} (SQLSTATE ${code})`
  const make = (stable: string, what: string, hint: string) =>
    new DbopsError(stable, `${what} while ${doing}: ${said}`, { hint, cause: error })
  switch (code) {
    case '53200':
      return make(
        'DB_OUT_OF_LOCKS',
        'the server ran out of lock slots',
        'Its lock table holds max_locks_per_transaction × (max_connections + max_prepared_transactions) locks, shared by every session: raise max_locks_per_transaction (a restart), or run the backup when fewer sessions hold locks.',
      )
    case '57014':
      return /statement timeout/i.test(e.message ?? '')
        ? make(
            'DB_STATEMENT_TIMEOUT',
            'a statement_timeout of the role or database stopped a query',
            'dbops turns statement_timeout off for its own backup sessions; check for a setting that forces it (ALTER ROLE/DATABASE ... SET statement_timeout) or a pooler in between.',
          )
        : make(
            'DB_QUERY_CANCELLED',
            'the query was cancelled by someone else (pg_cancel_backend)',
            'Run the backup again; find who cancels sessions (a watchdog, an operator).',
          )
    case '25P03':
      return make(
        'DB_IDLE_TIMEOUT',
        'idle_in_transaction_session_timeout ended the snapshot session',
        'dbops turns it off for its own backup sessions; check for a pooler or proxy that ends idle transactions.',
      )
    case '55P03':
      return make(
        'DB_LOCK_TIMEOUT',
        'a lock could not be taken in time (lock_timeout)',
        "Another session holds a lock on a table (a migration?); run the backup again when it is done, or lower the role's lock_timeout for backups.",
      )
    case '42501':
      return make(
        'DB_PERMISSION_DENIED',
        'the backup role may not read everything',
        'Back up as a role that may read every table (the owner, a member of pg_read_all_data, or a superuser).',
      )
    case '53100':
      return make(
        'DB_DISK_FULL',
        'the database server ran out of disk space',
        'Free space on the database server (its temporary files too).',
      )
    case '57P01':
      return make(
        'DB_SESSION_TERMINATED',
        'the server ended the session (pg_terminate_backend, or a shutdown)',
        'Run the backup again; if it keeps happening, find what terminates sessions (a watchdog, a pooler, an operator).',
      )
    case '57P02':
    case '57P03':
      return make(
        'DB_SHUTTING_DOWN',
        'the database server is restarting or shutting down',
        'Run the backup again once the server is back.',
      )
    case '40001':
    case '40P01':
      return make(
        'DB_CONFLICT',
        'the query was cancelled to resolve a conflict',
        'Run the backup again; on a standby, raise max_standby_streaming_delay or back up the primary.',
      )
  }
  return make(
    'DB_QUERY_FAILED',
    'the server refused a query',
    e.hint
      ? `The server says: ${e.hint}`
      : 'Run the backup again; if it persists, look up the SQLSTATE in the PostgreSQL documentation (Appendix A).',
  )
}
