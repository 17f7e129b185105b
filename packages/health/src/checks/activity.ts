import { listingFloor } from '../thresholds.ts'
import { defineCheck, num } from './define-check.ts'
import { invisibleReason, scopeFilter, sessionName, shortQuery } from './sessions.ts'

export const CONNECTIONS_SQL = `
select count(*) filter (where backend_type = 'client backend')::int as used,
       current_setting('max_connections')::int as max_connections,
       current_setting('superuser_reserved_connections')::int
         + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0) as reserved,
       (select json_agg(t) from (
          select coalesce(datname, '-') as datname, coalesce(usename, '-') as usename, count(*)::int as n
          from pg_stat_activity where backend_type = 'client backend'
          group by 1, 2 order by n desc limit $1) t) as top
from pg_stat_activity`

export const connectionsCheck = defineCheck({
  id: 'connections',
  title: 'connection saturation',
  unit: 'percent',
  defaults: { warning: 80, critical: 95 },
  source:
    'postgres_exporter mixin: > 80% of (max_connections - reserved); check_postgres backends: 90%/95%',
  hint: 'Find who holds the connections (see the list); put a pooler (PgBouncer) in front or lower the pools of the apps.',
  run: async ({ sql, limit }) => {
    const [row] = await sql(CONNECTIONS_SQL, [Math.min(limit, 5)])
    const usable = Math.max(1, num(row!.max_connections) - num(row!.reserved))
    const pct = (num(row!.used) / usable) * 100
    const top = (row!.top ?? []) as { datname: string; usename: string; n: number }[]
    return {
      value: pct,
      message: `${row!.used} of ${usable} usable connections in use (max_connections ${row!.max_connections}, ${row!.reserved} reserved)`,
      findings: top.map((t) => ({
        object: `${t.usename}@${t.datname}`,
        value: null,
        status: 'ok' as const,
        detail: `${t.n} connection${t.n === 1 ? '' : 's'}`,
      })),
      total: top.length,
    }
  },
})

/** Sessions idle inside an open transaction for at least $1 seconds, longest first. */
export const IDLE_IN_TRANSACTION_SQL = (scope: string) => `
select pid, usename, datname, application_name, client_addr::text as client_addr,
       extract(epoch from now() - state_change)::float8 as seconds, state, query,
       count(*) over ()::int as total
from pg_stat_activity
where state in ('idle in transaction', 'idle in transaction (aborted)')
  and pid <> pg_backend_pid() and ${scope}
  and now() - state_change >= make_interval(secs => $1)
order by seconds desc
limit $2`

/**
 * Sessions of other roles whose state this role may not read (no pg_monitor): the server
 * hides backend_type, state and query, but not usename and datname.
 */
export const INVISIBLE_SESSIONS_SQL = (scope: string) => `
select count(*)::int as n from pg_stat_activity
where backend_type is null and state is null and usename is not null and datname is not null
  and pid <> pg_backend_pid() and ${scope}`

export const idleInTransactionCheck = defineCheck({
  id: 'idle_in_transaction',
  title: 'idle in transaction',
  unit: 'seconds',
  defaults: { warning: 300, critical: 1800 },
  source:
    'research goal G1 (5m/30m); pghero counts >= 100 such sessions; check_postgres txn_idle has no default',
  hint: 'These sessions hold locks and the vacuum horizon. Fix the app (commit or roll back), set idle_in_transaction_session_timeout, or pg_terminate_backend(pid).',
  run: async ({ sql, options, limit, scope, server }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql(IDLE_IN_TRANSACTION_SQL(scopeFilter(scope)), [floor, limit])
    const hidden = server.monitor
      ? 0
      : num((await sql(INVISIBLE_SESSIONS_SQL(scopeFilter(scope))))[0]?.n)
    return {
      findings: rows.map((r) => ({
        object: sessionName(r),
        value: num(r.seconds),
        detail: `${r.state}${r.client_addr ? ` from ${r.client_addr}` : ''}: ${shortQuery(r.query)}`,
      })),
      total: num(rows[0]?.total),
      ...(rows.length
        ? {
            message: `${rows[0]!.total} session(s) idle in transaction; longest ${sessionName(rows[0]!)}`,
          }
        : { message: 'no session idle in a transaction' }),
      unknownReason: invisibleReason(hidden, server.user),
    }
  },
})

export const LONG_QUERIES_SQL = (scope: string) => `
select pid, usename, datname, application_name, extract(epoch from now() - query_start)::float8 as seconds, query,
       wait_event_type, wait_event, count(*) over ()::int as total
from pg_stat_activity
where state = 'active' and backend_type = 'client backend' and pid <> pg_backend_pid() and ${scope}
  and now() - query_start >= make_interval(secs => $1)
order by seconds desc
limit $2`

export const longQueriesCheck = defineCheck({
  id: 'long_queries',
  title: 'long-running queries',
  unit: 'seconds',
  defaults: { warning: 60, critical: 300 },
  source:
    'pghero long_running_query_sec 60 s; research goal G1 60s/5m (check_postgres query_time docs: 2m/5m)',
  hint: 'Look at the statement (EXPLAIN it); cancel it with pg_cancel_backend(pid) if it is stuck; set statement_timeout for the app role.',
  run: async ({ sql, options, limit, scope, server }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql(LONG_QUERIES_SQL(scopeFilter(scope)), [floor, limit])
    const hidden = server.monitor
      ? 0
      : num((await sql(INVISIBLE_SESSIONS_SQL(scopeFilter(scope))))[0]?.n)
    return {
      findings: rows.map((r) => ({
        object: sessionName(r),
        value: num(r.seconds),
        detail: `${r.wait_event ? `waiting on ${r.wait_event_type}:${r.wait_event}; ` : ''}${shortQuery(r.query)}`,
      })),
      total: num(rows[0]?.total),
      ...(rows.length ? {} : { message: 'no long-running query' }),
      unknownReason: invisibleReason(hidden, server.user),
    }
  },
})

export const LONG_TRANSACTIONS_SQL = (scope: string) => `
select pid, usename, datname, application_name, state, extract(epoch from now() - xact_start)::float8 as seconds, query,
       backend_xmin::text as xmin, count(*) over ()::int as total
from pg_stat_activity
where xact_start is not null and backend_type = 'client backend' and pid <> pg_backend_pid() and ${scope}
  and now() - xact_start >= make_interval(secs => $1)
order by seconds desc
limit $2`

export const longTransactionsCheck = defineCheck({
  id: 'long_transactions',
  title: 'long-running transactions',
  unit: 'seconds',
  defaults: { warning: 900, critical: 3600 },
  source:
    'check_postgres txn_time and postgres_exporter long_running_transactions set no default; dbops: 15m/1h',
  hint: 'An old transaction holds back vacuum (dead rows pile up) and stalls CREATE INDEX/REINDEX CONCURRENTLY. End it or fix the code that keeps it open.',
  run: async ({ sql, options, limit, scope, server }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql(LONG_TRANSACTIONS_SQL(scopeFilter(scope)), [floor, limit])
    const hidden = server.monitor
      ? 0
      : num((await sql(INVISIBLE_SESSIONS_SQL(scopeFilter(scope))))[0]?.n)
    return {
      findings: rows.map((r) => ({
        object: sessionName(r),
        value: num(r.seconds),
        detail: `${r.state ?? '?'}${r.xmin ? `, holds xmin ${r.xmin}` : ''}: ${shortQuery(r.query)}`,
      })),
      total: num(rows[0]?.total),
      ...(rows.length ? {} : { message: 'no long-running transaction' }),
      unknownReason: invisibleReason(hidden, server.user),
    }
  },
})

/**
 * Sessions waiting on a heavyweight lock, with who blocks them (pg_blocking_pids, PG 9.6+).
 * The wait starts at pg_locks.waitstart on PG 14+, else at the statement's start.
 */
export const BLOCKED_QUERIES_SQL = (scope: string, hasWaitstart: boolean) => `
with waiting as (
  select a.pid, a.usename, a.datname, a.application_name, a.query, a.wait_event,
         pg_blocking_pids(a.pid) as blockers,
         ${hasWaitstart ? '(select min(l.waitstart) from pg_locks l where l.pid = a.pid and not l.granted)' : 'null::timestamptz'} as waitstart,
         a.query_start
  from pg_stat_activity a
  where a.wait_event_type = 'Lock' and a.pid <> pg_backend_pid() and ${scope}
)
select w.pid, w.usename, w.datname, w.application_name, w.query, w.wait_event,
       extract(epoch from now() - coalesce(w.waitstart, w.query_start))::float8 as seconds,
       (select string_agg(format('pid %s (%s, %s): %s', b.pid, coalesce(b.usename, '?'), coalesce(b.state, '?'), left(coalesce(b.query, ''), 80)), '; ')
          from pg_stat_activity b where b.pid = any(w.blockers)) as blocked_by,
       count(*) over ()::int as total
from waiting w
where cardinality(w.blockers) > 0 and now() - coalesce(w.waitstart, w.query_start) >= make_interval(secs => $1)
order by seconds desc
limit $2`

export const blockedQueriesCheck = defineCheck({
  id: 'blocked_queries',
  title: 'blocked queries and their blockers',
  unit: 'seconds',
  defaults: { warning: 60, critical: 120 },
  source: 'check_postgres lockwait 1 min / 2 min; pghero blocked_queries (lists, no threshold)',
  hint: 'The blocker is named in each line: finish or cancel it (pg_cancel_backend / pg_terminate_backend). Long blockers are often idle-in-transaction sessions or DDL without lock_timeout.',
  run: async ({ sql, options, limit, scope, server }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql(
      BLOCKED_QUERIES_SQL(scopeFilter(scope, 'a.datname'), server.versionNum >= 140000),
      [floor, limit],
    )
    return {
      findings: rows.map((r) => ({
        object: sessionName(r),
        value: num(r.seconds),
        detail: `waits for ${r.wait_event} lock, blocked by ${r.blocked_by ?? 'an invisible session'}: ${shortQuery(r.query, 100)}`,
      })),
      total: num(rows[0]?.total),
      ...(rows.length
        ? {
            message: `${rows[0]!.total} blocked session(s); longest wait ${sessionName(rows[0]!)} blocked by ${String(rows[0]!.blocked_by ?? '?').split(' (')[0]}`,
          }
        : { message: 'no session waits on a lock' }),
    }
  },
})

export const PREPARED_TRANSACTIONS_SQL = (scope: string) => `
select gid, owner, database, prepared, extract(epoch from now() - prepared)::float8 as seconds, count(*) over ()::int as total
from pg_prepared_xacts
where ${scope} and now() - prepared >= make_interval(secs => $1)
order by prepared
limit $2`

export const preparedTransactionsCheck = defineCheck({
  id: 'prepared_transactions',
  title: 'prepared transactions',
  unit: 'seconds',
  defaults: { warning: 1, critical: 30 },
  source: 'check_postgres prepared_txns 1 s / 30 s',
  hint: "A forgotten two-phase transaction holds locks and the vacuum horizon forever: COMMIT PREPARED 'gid' or ROLLBACK PREPARED 'gid' once you know which it should be.",
  run: async ({ sql, options, limit, scope }) => {
    const floor = listingFloor(options.warning, options.critical) ?? 0
    const rows = await sql<{
      gid: string
      owner: string
      database: string
      prepared: Date
      seconds: number
      total: number
    }>(PREPARED_TRANSACTIONS_SQL(scopeFilter(scope, 'database')), [floor, limit])
    return {
      findings: rows.map((r) => ({
        object: `gid '${r.gid}' (${r.owner}@${r.database})`,
        value: num(r.seconds),
        detail: `prepared at ${r.prepared.toISOString()}`,
      })),
      total: num(rows[0]?.total),
      ...(rows.length ? {} : { message: 'no prepared transaction' }),
    }
  },
})
