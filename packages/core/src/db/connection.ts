import type { ClientConfig } from 'pg'
import type { ConnectionConfig, PoolConfig } from '../config/schema.ts'

/** Where a pool connects, with the password kept apart so it is never printed by accident. */
export interface ConnectionTarget {
  host: string
  port: number
  database: string
  user: string
  /** Never log this: pass it to child processes through `PGPASSWORD` only. */
  password: string | undefined
  ssl: ClientConfig['ssl']
  sslMode: string | undefined
  applicationName: string
}

/** Parses a postgres URL or connection parts into one target. Throws on a malformed URL. */
export function resolveTarget(
  connection: ConnectionConfig,
  url = connection.url,
): ConnectionTarget {
  let fromUrl: Partial<ConnectionTarget> & { sslMode?: string } = {}
  if (url) {
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new Error(
        'the connection URL is not a valid URL (expected postgres://user:password@host:5432/database)',
      )
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new Error(
        `the connection URL must start with postgres:// or postgresql://, not ${parsed.protocol}//`,
      )
    }
    const hostParam = parsed.searchParams.get('host') // unix socket dirs: postgres:///db?host=/run/postgresql
    fromUrl = {
      host: hostParam ?? (parsed.hostname ? decodeURIComponent(parsed.hostname) : undefined),
      port: parsed.port ? Number(parsed.port) : undefined,
      database:
        parsed.pathname.length > 1 ? decodeURIComponent(parsed.pathname.slice(1)) : undefined,
      user: parsed.username ? decodeURIComponent(parsed.username) : undefined,
      password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
      sslMode: parsed.searchParams.get('sslmode') ?? undefined,
    }
  }
  const user = connection.user ?? fromUrl.user ?? process.env.PGUSER ?? 'postgres'
  const sslMode = fromUrl.sslMode
  return {
    host: connection.host ?? fromUrl.host ?? process.env.PGHOST ?? 'localhost',
    port:
      connection.port ?? fromUrl.port ?? (process.env.PGPORT ? Number(process.env.PGPORT) : 5432),
    database: connection.database ?? fromUrl.database ?? user,
    user,
    password: connection.password ?? fromUrl.password ?? process.env.PGPASSWORD,
    ssl: sslOption(connection.ssl, sslMode),
    sslMode,
    applicationName: connection.applicationName,
  }
}

function sslOption(ssl: ConnectionConfig['ssl'], sslMode: string | undefined): ClientConfig['ssl'] {
  if (ssl !== undefined) return typeof ssl === 'boolean' ? ssl : { ...ssl }
  if (sslMode === 'require' || sslMode === 'prefer') return { rejectUnauthorized: false }
  if (sslMode === 'verify-ca' || sslMode === 'verify-full') return { rejectUnauthorized: true }
  return undefined
}

/** `user@host:port/db`: how errors and reports name a database. No password. */
export function describeTarget(target: ConnectionTarget): string {
  return `${target.user}@${target.host}:${target.port}/${target.database}`
}

export function clientConfig(target: ConnectionTarget, pool: PoolConfig): ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    ssl: target.ssl,
    application_name: target.applicationName,
    connectionTimeoutMillis: pool.connectTimeoutMs,
    query_timeout: pool.queryTimeoutMs || undefined,
    statement_timeout: pool.statementTimeoutMs || undefined,
  }
}

/**
 * The libpq environment for a child process (pg_dump, psql): the password travels here,
 * never in argv where `ps` would show it.
 */
export function libpqEnv(target: ConnectionTarget): Record<string, string> {
  const out: Record<string, string> = {
    PGHOST: target.host,
    PGPORT: String(target.port),
    PGDATABASE: target.database,
    PGUSER: target.user,
    PGAPPNAME: target.applicationName,
    PGCONNECT_TIMEOUT: '10',
  }
  if (target.password !== undefined) out.PGPASSWORD = target.password
  const ssl = target.ssl
  if (target.sslMode) out.PGSSLMODE = target.sslMode
  else if (ssl === true || (typeof ssl === 'object' && ssl))
    out.PGSSLMODE =
      typeof ssl === 'object' && ssl.rejectUnauthorized === false ? 'require' : 'verify-full'
  return out
}
