import { z } from 'zod'
import { formatBytes } from 'dbops/plugin'
import { compare } from '../thresholds.ts'
import { worstStatus } from '../status.ts'
import type { Status } from '../types.ts'
import { defineCheck, num } from './define-check.ts'

/**
 * Replica side. Time since the last replayed transaction is only lag when there is WAL
 * received but not replayed; an idle primary would otherwise look like growing lag
 * (postgres_exporter#385). Receive and replay positions are reported apart so a broken
 * link is not masked as "0 lag" (postgres_exporter#977).
 */
export const REPLICA_LAG_SQL = `
select pg_last_wal_receive_lsn()::text as received, pg_last_wal_replay_lsn()::text as replayed,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 as replay_bytes,
       case when pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() then 0
            else extract(epoch from now() - pg_last_xact_replay_timestamp()) end::float8 as seconds,
       extract(epoch from now() - pg_last_xact_replay_timestamp())::float8 as since_last_replay,
       (select status from pg_stat_wal_receiver limit 1) as receiver`

export const replicationLagCheck = defineCheck({
  id: 'replication_lag',
  title: 'replication lag (this replica)',
  unit: 'seconds',
  defaults: { warning: 30, critical: 300 },
  source: 'research goal G1: 30 s / 5 m (pghero "healthy" < 5 s; postgres_exporter mixin > 1 h)',
  hint: 'Replay is behind: look for long queries on the replica (max_standby_streaming_delay, hot_standby_feedback), I/O saturation, or a broken link to the primary (receiver status).',
  run: async ({ sql, server }) => {
    if (!server.inRecovery)
      return { status: 'skipped', message: 'this server is a primary (see standby_lag)' }
    const [r] = await sql(REPLICA_LAG_SQL)
    const receiver = r?.receiver ?? 'not streaming'
    return {
      value: num(r?.seconds),
      message: `replay ${num(r?.seconds).toFixed(1)} s behind, ${formatBytes(num(r?.replay_bytes))} received but not replayed; WAL receiver ${receiver}`,
      ...(receiver !== 'streaming'
        ? { unknownReason: `the WAL receiver is ${receiver}: the lag may be larger than shown` }
        : {}),
    }
  },
})

export const STANDBY_LAG_SQL = `
select application_name, client_addr::text as client_addr, state, sync_state,
       extract(epoch from replay_lag)::float8 as replay_seconds,
       extract(epoch from write_lag)::float8 as write_seconds,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 as replay_bytes,
       replay_lsn is null as hidden
from pg_stat_replication
order by replay_lag desc nulls last`

export const standbyLagCheck = defineCheck({
  id: 'standby_lag',
  title: 'replication lag (standbys of this primary)',
  unit: 'seconds',
  defaults: { warning: 30, critical: 300 },
  source: 'check_postgres hot_standby_delay (must be given); research goal G1: 30 s / 5 m',
  hint: 'A standby falls behind: check its load and network; a lagging synchronous standby also slows commits here.',
  options: {
    /** Critical when fewer standbys are connected. */
    minStandbys: z.number().int().nonnegative().default(0),
  },
  run: async ({ sql, server, options }) => {
    if (server.inRecovery)
      return { status: 'skipped', message: 'this server is a replica (see replication_lag)' }
    const rows = await sql(STANDBY_LAG_SQL)
    const hidden = rows.filter((r) => r.hidden).length
    const findings = rows.map((r) => ({
      object: `${r.application_name || 'standby'}${r.client_addr ? ` (${r.client_addr})` : ''}`,
      value: r.replay_seconds === null ? 0 : num(r.replay_seconds),
      detail: `${r.state}, ${r.sync_state}; ${formatBytes(num(r.replay_bytes))} behind`,
    }))
    if (rows.length < options.minStandbys) {
      return {
        status: 'critical',
        findings,
        message: `${rows.length} standby(s) connected, ${options.minStandbys} expected`,
      }
    }
    return {
      findings,
      message: rows.length ? `${rows.length} standby(s) connected` : 'no standby connected',
      ...(hidden
        ? {
            unknownReason: `${hidden} standby position(s) invisible to ${server.user} (grant pg_monitor)`,
          }
        : {}),
    }
  },
})

export const REPLICATION_SLOTS_SQL = `
select slot_name, slot_type, database, active, wal_status,
       pg_wal_lsn_diff(case when pg_is_in_recovery() then pg_last_wal_receive_lsn() else pg_current_wal_lsn() end, restart_lsn)::float8 as retained_bytes,
       age(xmin)::bigint as xmin_age, age(catalog_xmin)::bigint as catalog_xmin_age
from pg_replication_slots
order by retained_bytes desc nulls last`

export const replicationSlotsCheck = defineCheck({
  id: 'replication_slots',
  title: 'replication slots and retained WAL',
  unit: 'bytes',
  defaults: { warning: 1024 ** 3, critical: 10 * 1024 ** 3 },
  source:
    'pghero: any inactive slot; postgres_exporter mixin: inactive → critical; check_postgres replication_slots: retained bytes (must be given; 1 GB / 10 GB here)',
  hint: 'A slot nobody consumes keeps all WAL since its position (the disk fills) and holds back vacuum: reconnect its consumer, or pg_drop_replication_slot(name) if it is abandoned.',
  options: {
    /** Status of an inactive slot, whatever WAL it retains. */
    inactive: z.enum(['critical', 'warning', 'ok']).default('critical'),
  },
  run: async ({ sql, options }) => {
    const rows = await sql(REPLICATION_SLOTS_SQL)
    const findings = rows.map((r) => {
      const value = num(r.retained_bytes)
      const byBytes = compare(value, options.warning, options.critical, 'above')
      const status: Status =
        r.wal_status === 'lost'
          ? 'critical'
          : !r.active && options.inactive !== 'ok'
            ? worstStatus([options.inactive, byBytes])
            : byBytes
      return {
        object: `${r.slot_name} (${r.slot_type}${r.database ? ` on ${r.database}` : ''})`,
        value,
        status,
        detail: `${r.active ? 'active' : 'INACTIVE'}; retains ${formatBytes(value)} of WAL; wal_status ${r.wal_status ?? '-'}${r.xmin_age ? `; holds xmin (age ${r.xmin_age})` : ''}${r.catalog_xmin_age ? `; holds catalog_xmin (age ${r.catalog_xmin_age})` : ''}`,
      }
    })
    const inactive = rows.filter((r) => !r.active).length
    return {
      findings,
      message: rows.length
        ? `${rows.length} slot(s), ${inactive} inactive; most WAL retained ${formatBytes(num(rows[0]?.retained_bytes))}${
            inactive
              ? ` (inactive: ${rows
                  .filter((r) => !r.active)
                  .map((r) => r.slot_name)
                  .slice(0, 3)
                  .join(', ')})`
              : ''
          }`
        : 'no replication slot',
    }
  },
})

export const ARCHIVER_SQL = `
select current_setting('archive_mode') as archive_mode, archived_count, failed_count, last_archived_wal, last_failed_wal,
       last_archived_time, last_failed_time,
       coalesce(last_failed_time > coalesce(last_archived_time, '-infinity'::timestamptz), false) as failing
from pg_stat_archiver`

export const ARCHIVE_READY_SQL = `select count(*)::int as ready from pg_ls_archive_statusdir() where name like '%.ready'`

export const archiverCheck = defineCheck({
  id: 'archiver',
  title: 'WAL archiving',
  unit: 'count',
  defaults: { warning: 10, critical: 15 },
  source:
    'check_postgres archive_ready: 10 / 15 .ready files; postgres_exporter pg_stat_archiver (failing archiver → critical)',
  hint: 'archive_command fails: read the server log for its error (credentials, full disk, unreachable bucket). WAL piles up in pg_wal until it succeeds.',
  run: async ({ sql, server }) => {
    const [a] = await sql<{
      archive_mode: string
      archived_count: string
      failed_count: string
      last_archived_wal: string | null
      last_failed_wal: string | null
      last_failed_time: Date
      failing: boolean
    }>(ARCHIVER_SQL)
    if (a?.archive_mode === 'off') return { status: 'skipped', message: 'archive_mode is off' }
    let ready: number | null = null
    let reason: string | undefined
    try {
      await sql('savepoint archive_ready')
      ready = num((await sql(ARCHIVE_READY_SQL))[0]?.ready)
      await sql('release savepoint archive_ready')
    } catch (error) {
      await sql('rollback to savepoint archive_ready')
      reason = `cannot count .ready files as ${server.user}: ${(error as Error).message} (grant pg_monitor)`
    }
    if (a?.failing) {
      return {
        value: ready,
        status: 'critical',
        message: `archiving fails since ${a.last_failed_time.toISOString()} (last failed ${a.last_failed_wal}, ${a.failed_count} failures)${ready !== null ? `; ${ready} segments waiting` : ''}`,
      }
    }
    return {
      value: ready,
      message: `${a?.archived_count ?? 0} archived${a?.last_archived_wal ? `, last ${a.last_archived_wal}` : ''}${ready !== null ? `; ${ready} segment(s) waiting` : ''}`,
      unknownReason: reason,
    }
  },
})
