import { z } from 'zod'
import type { ServerInfo } from '../types.ts'
import { defineCheck } from './define-check.ts'

export const SERVER_INFO_SQL = `
select current_setting('server_version_num')::int as version_num,
       current_setting('server_version') as version,
       pg_is_in_recovery() as in_recovery,
       current_user as "user",
       (select rolsuper from pg_roles where rolname = current_user) as superuser,
       pg_has_role(current_user, 'pg_monitor', 'member') as monitor,
       current_database() as database,
       current_setting('block_size')::int as block_size,
       array(select extname::text from pg_extension) as extensions,
       -- reset_val: the session's own value (role, database, startup), not the SET LOCAL in effect
       (select reset_val::int from pg_settings where name = 'statement_timeout') as session_statement_timeout`

export function readServerInfo(row: Record<string, unknown> | undefined): ServerInfo {
  if (!row) throw new Error('the server returned no facts about itself')
  return {
    versionNum: Number(row.version_num),
    version: String(row.version),
    inRecovery: Boolean(row.in_recovery),
    user: String(row.user),
    superuser: Boolean(row.superuser),
    monitor: Boolean(row.superuser) || Boolean(row.monitor),
    database: String(row.database),
    blockSize: Number(row.block_size),
    extensions: new Set(row.extensions as string[]),
    sessionStatementTimeoutMs: Number(row.session_statement_timeout ?? 0),
  }
}

const ROUND_TRIP_SQL = 'select 1'

export const connectionCheck = defineCheck({
  id: 'connection',
  title: 'connectivity and round-trip latency',
  unit: 'ms',
  defaults: { warning: 500, critical: 2000 },
  source:
    'check_postgres connection (OK/CRITICAL); postgres_exporter pg_up. Latency limits are dbops defaults.',
  hint: 'Check the network path and the server load; the connect timeout is pool.connectTimeoutMs.',
  run: async ({ sql, server }) => {
    // Best of three round trips: one slow packet should not page anyone.
    let best = Infinity
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      await sql(ROUND_TRIP_SQL)
      best = Math.min(best, performance.now() - started)
    }
    return { value: best, message: `connected as ${server.user}; round trip ${best.toFixed(1)} ms` }
  },
})

/** Minor releases with known data-loss bugs, and why. */
export const KNOWN_BAD_VERSIONS: { from: number; to: number; why: string }[] = [
  {
    from: 140000,
    to: 140399,
    why: 'CREATE INDEX CONCURRENTLY / REINDEX CONCURRENTLY can silently miss rows (fixed in 14.4; rebuild indexes built concurrently)',
  },
]

export const versionCheck = defineCheck({
  id: 'version',
  title: 'server version',
  unit: 'version',
  defaults: { warning: null, critical: null },
  source:
    'check_postgres version; PostgreSQL 14.4 release notes (CIC bug); versioning policy for end of life',
  hint: 'Upgrade to the latest minor release of a supported major version.',
  options: {
    /** Majors below this are past their end of life: warning. */
    minimumMajor: z.number().int().default(14),
    /** Extra known-bad ranges (server_version_num), e.g. [{ from: 150000, to: 150002, why: '...' }]. */
    knownBad: z
      .array(z.object({ from: z.number().int(), to: z.number().int(), why: z.string() }))
      .default([]),
  },
  run: async ({ server, options }) => {
    const major = Math.floor(server.versionNum / 10000)
    const bad = [...KNOWN_BAD_VERSIONS, ...options.knownBad].find(
      (b) => server.versionNum >= b.from && server.versionNum <= b.to,
    )
    if (bad)
      return {
        value: server.versionNum,
        status: 'critical',
        message: `PostgreSQL ${server.version}: ${bad.why}`,
        findings: [
          { object: server.version, value: server.versionNum, status: 'critical', detail: bad.why },
        ],
      }
    if (major < options.minimumMajor)
      return {
        value: server.versionNum,
        status: 'warning',
        message: `PostgreSQL ${server.version} is past its end of life (minimum supported major: ${options.minimumMajor})`,
      }
    return { value: server.versionNum, status: 'ok', message: `PostgreSQL ${server.version}` }
  },
})
