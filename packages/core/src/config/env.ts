import { ConfigError } from '../errors.ts'

/**
 * `env('DATABASE_URL')` in a config: the variable's value, or a config error naming it.
 * Errors are collected rather than thrown one at a time, so a config with three missing
 * variables reports all three.
 */
// Shared by every copy of this module (see DbopsError's brand for why copies exist).
const shared = globalThis as Record<symbol, unknown>
const MISSING_KEY = Symbol.for('dbops.missingEnv')
shared[MISSING_KEY] ??= new Set<string>()
const missing = shared[MISSING_KEY] as Set<string>

export function env(name: string): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    missing.add(name)
    return ''
  }
  return value
}

env.optional = (name: string): string | undefined => {
  const value = process.env[name]
  return value === undefined || value === '' ? undefined : value
}

env.number = (name: string, fallback?: number): number => {
  const raw = process.env[name]
  if (raw === undefined || raw === '') {
    if (fallback !== undefined) return fallback
    missing.add(name)
    return Number.NaN
  }
  return Number(raw)
}

export function takeMissingEnv(): string[] {
  const names = [...missing]
  missing.clear()
  return names
}

export function missingEnvProblems(names: string[]): string[] {
  return names.map(
    (name) =>
      `env.${name}: the environment variable ${name} is not set (export it or put it in .env beside the config)`,
  )
}

export function throwIfMissingEnv(): void {
  const names = takeMissingEnv()
  if (names.length > 0) throw new ConfigError(missingEnvProblems(names))
}

type Raw = Record<string, unknown>

function setDefault(target: Raw, key: string, value: string | undefined): void {
  if (value !== undefined && value !== '' && target[key] === undefined) target[key] = value
}

/**
 * Fills keys the config left out from the conventional environment names (the ones the
 * aipromot scripts and most Node apps use). Values stay strings: the schema coerces and
 * validates them, so `DB_CONNECTION_LIMIT=abc` is reported like any other bad value.
 */
export function applyEnvConventions(input: Raw, source: NodeJS.ProcessEnv = process.env): Raw {
  const out: Raw = { ...input }
  const connection: Raw = { ...((out.connection as Raw | undefined) ?? {}) }
  if (connection.host === undefined && connection.database === undefined)
    setDefault(connection, 'url', source.DATABASE_URL)
  setDefault(connection, 'readReplicaUrl', source.DATABASE_READ_REPLICA_URL)
  if (
    connection.ssl === undefined &&
    source.DB_SSL_REJECT_UNAUTHORIZED !== undefined &&
    source.DB_SSL_REJECT_UNAUTHORIZED !== ''
  ) {
    connection.ssl = { rejectUnauthorized: source.DB_SSL_REJECT_UNAUTHORIZED !== 'false' }
  }
  out.connection = connection

  const pool: Raw = { ...((out.pool as Raw | undefined) ?? {}) }
  setDefault(pool, 'max', source.DB_CONNECTION_LIMIT)
  setDefault(pool, 'idleTimeoutMs', source.DB_MAX_IDLE_TIME)
  setDefault(pool, 'maxLifetimeMs', source.DB_MAX_LIFE_TIME)
  setDefault(pool, 'queryTimeoutMs', source.DB_QUERY_TIMEOUT)
  out.pool = pool

  if (out.storage === undefined && source.BACKUP_DIR)
    out.storage = { local: { dir: source.BACKUP_DIR } }
  const retention: Raw = { ...((out.retention as Raw | undefined) ?? {}) }
  setDefault(retention, 'maxAgeDays', source.BACKUP_RETENTION_DAYS)
  out.retention = retention
  return out
}
