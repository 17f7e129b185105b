import { DbopsError } from '../errors.ts'
import { scrub } from '../secrets.ts'
import { describeTarget, type ConnectionTarget } from './connection.ts'

/**
 * Turns a connection failure into a sentence that says what happened and what to do.
 * The password never appears: every message passes through `scrub`.
 */
export function explainConnectionError(error: unknown, target: ConnectionTarget): DbopsError {
  const err = error as { code?: string; message?: string }
  const where = describeTarget(target)
  const raw = scrub(err.message ?? String(error), [target.password])
  const make = (code: string, message: string, hint: string) =>
    new DbopsError(code, message, { hint, cause: new Error(raw) })
  switch (err.code) {
    case '28P01':
      return make(
        'DB_AUTH_FAILED',
        `password authentication failed for user "${target.user}" at ${where}`,
        'Check the password in DATABASE_URL (or connection.password).',
      )
    case '28000':
      if (/SSL off|no encryption/i.test(raw))
        return make(
          'DB_SSL_REQUIRED',
          `the server at ${where} requires SSL`,
          'Add ?sslmode=require to the URL or set connection.ssl.',
        )
      return make(
        'DB_AUTH_REJECTED',
        `the server at ${where} rejected user "${target.user}": ${raw}`,
        'Check pg_hba.conf and the user name.',
      )
    case '3D000':
      return make(
        'DB_MISSING',
        `database "${target.database}" does not exist on ${target.host}:${target.port}`,
        'Create it, or fix the database name in DATABASE_URL.',
      )
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return make(
        'DB_HOST_UNKNOWN',
        `the database host "${target.host}" could not be resolved`,
        'Check the host name in DATABASE_URL.',
      )
    case 'ECONNREFUSED':
      return make(
        'DB_REFUSED',
        `nothing accepts connections at ${target.host}:${target.port}`,
        'Is PostgreSQL running and listening on that address and port?',
      )
    case 'ETIMEDOUT':
      return make(
        'DB_TIMEOUT',
        `connecting to ${where} timed out`,
        'Check the host, firewall, or raise pool.connectTimeoutMs.',
      )
    case '57P03':
      return make(
        'DB_STARTING',
        `the server at ${where} is starting up or shutting down`,
        'Retry in a moment.',
      )
    case '53300':
      return make(
        'DB_TOO_MANY_CONNECTIONS',
        `the server at ${where} has no free connection slots`,
        'Lower pool.max or raise max_connections.',
      )
  }
  if (/does not support SSL/i.test(raw))
    return make(
      'DB_SSL_UNSUPPORTED',
      `the server at ${where} does not support SSL`,
      'Remove sslmode/ssl from the connection settings.',
    )
  if (/timeout expired|Connection terminated due to connection timeout/i.test(raw)) {
    return make(
      'DB_TIMEOUT',
      `connecting to ${where} timed out`,
      'Check the host, firewall, or raise pool.connectTimeoutMs.',
    )
  }
  if (/self[- ]signed|certificate/i.test(raw))
    return make(
      'DB_SSL_CERT',
      `the server certificate of ${where} was not accepted: ${raw}`,
      'Provide connection.ssl.ca, or set ssl.rejectUnauthorized false for testing only.',
    )
  return make(
    'DB_CONNECT_FAILED',
    `could not connect to ${where}: ${raw}`,
    'Check DATABASE_URL and that the server is reachable.',
  )
}

/** True for errors raised while connecting, as opposed to errors of a query. */
export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: string }).code
  if (code && /^(28|3D|08|57P0|53300|E[A-Z]+)/.test(code)) return true
  return /timeout expired|Connection terminated|connect ECONN|does not support SSL/i.test(
    (error as Error)?.message ?? '',
  )
}
