import { readFile, statfs } from 'node:fs/promises'
import path from 'node:path'
import type { Queryable } from 'dbops/plugin'
import type { ReindexOptions } from './options.ts'
import { DATA_DIRECTORY, OLD_TRANSACTIONS } from './sql.ts'
import { formatBytes, formatDuration } from 'dbops/plugin'
import { outsideWindow } from './window.ts'

/** A reason not to run maintenance now: a sentence and what to do about it. */
export interface Refusal {
  code:
    | 'STANDBY'
    | 'UNSAFE_VERSION'
    | 'UNSUPPORTED_VERSION'
    | 'OUTSIDE_WINDOW'
    | 'OLD_TRANSACTION'
    | 'LOW_DISK'
  message: string
  hint: string
}

export type ServerFacts = {
  version_num: number
  version: string
  block_size: number
  in_recovery: boolean
  /** Reads pg_statistic directly rather than through pg_stats. */
  superuser: boolean
  has_pgstattuple: boolean
  has_amcheck: boolean
  pgstattuple_schema: string | null
  amcheck_schema: string | null
}

export function standbyRefusal(facts: ServerFacts): Refusal | null {
  if (!facts.in_recovery) return null
  return {
    code: 'STANDBY',
    message:
      'the server is a standby (in recovery): indexes and statistics can only be maintained on the primary',
    hint: "Point the connection at the primary, or set preflight.whenRefused: 'skip' when the same config runs on every node.",
  }
}

/** PostgreSQL 14.0–14.3 could build indexes concurrently that silently miss rows (fixed in 14.4). */
export function versionRefusal(versionNum: number, version: string): Refusal | null {
  if (versionNum < 120000) {
    return {
      code: 'UNSUPPORTED_VERSION',
      message: `PostgreSQL ${version} has no REINDEX CONCURRENTLY (it arrived in 12)`,
      hint: 'Upgrade to PostgreSQL 12 or later to rebuild indexes online.',
    }
  }
  if (versionNum >= 140000 && versionNum < 140004) {
    return {
      code: 'UNSAFE_VERSION',
      message: `PostgreSQL ${version} has a bug where concurrent index builds can silently miss rows (fixed in 14.4)`,
      hint: 'Upgrade to 14.4 or later first, then rebuild every index that was built or rebuilt CONCURRENTLY on 14.0–14.3.',
    }
  }
  return null
}

export function windowRefusal(options: ReindexOptions, now = new Date()): Refusal | null {
  const window = options.preflight.window
  const outside = window ? outsideWindow(window, now) : null
  return outside
    ? {
        code: 'OUTSIDE_WINDOW',
        message: outside,
        hint: 'Run again inside the window, or change preflight.window.',
      }
    : null
}

type OldTransaction = {
  pid: number | null
  age_ms: number
  state: string | null
  usename: string | null
  application_name: string | null
  query: string | null
  prepared: boolean
}

/** The oldest transaction of this database past `maxTransactionAge`, named by pid and age. */
export async function oldTransactionRefusal(
  db: Queryable,
  options: ReindexOptions,
  signal?: AbortSignal,
): Promise<Refusal | null> {
  const limit = options.preflight.maxTransactionAge
  const { rows } = await db.query<OldTransaction>(OLD_TRANSACTIONS, [limit], { signal })
  const oldest = rows[0]
  if (!oldest) return null
  const more = rows.length > 1 ? ` (and ${rows.length - 1} more)` : ''
  const limitText = `preflight.maxTransactionAge (${formatDuration(limit)})`
  if (oldest.prepared) {
    return {
      code: 'OLD_TRANSACTION',
      message: `prepared transaction '${oldest.application_name}' has been open for ${formatDuration(oldest.age_ms)}, longer than ${limitText}${more}: a concurrent rebuild would wait for it`,
      hint: `Commit or roll it back (COMMIT PREPARED / ROLLBACK PREPARED '${oldest.application_name}'), or raise ${limitText.split(' ')[0]}.`,
    }
  }
  const who = [
    oldest.usename && `user ${oldest.usename}`,
    oldest.application_name && `application '${oldest.application_name}'`,
    oldest.state,
  ]
    .filter(Boolean)
    .join(', ')
  return {
    code: 'OLD_TRANSACTION',
    message: `the transaction of pid ${oldest.pid} (${who}) has been open for ${formatDuration(oldest.age_ms)}, longer than ${limitText}${more}: a concurrent rebuild would wait for it`,
    hint: `Let it finish or end it (select pg_terminate_backend(${oldest.pid})), or raise preflight.maxTransactionAge.`,
  }
}

/**
 * Free bytes where the index lives, when that can be known: the configured path, or the
 * server's data directory when the server runs on this machine (its postmaster.pid names
 * the same port and start time). Null when it cannot be known.
 */
export async function freeDisk(
  db: Queryable,
  options: ReindexOptions,
  tablespaceLocation: string,
): Promise<{ path: string; free: number } | null> {
  const configured = options.preflight.disk.path
  if (configured) return { path: configured, free: await freeBytes(configured) }
  try {
    const { rows } = await db.query<{ data_directory: string; port: number; started_at: number }>(
      DATA_DIRECTORY,
    )
    const server = rows[0]
    if (!server) return null
    const pidFile = (
      await readFile(path.join(server.data_directory, 'postmaster.pid'), 'utf8')
    ).split('\n')
    const samePort = Number(pidFile[3]) === server.port
    const sameStart = Math.abs(Number(pidFile[2]) - server.started_at) < 2
    if (!samePort || !sameStart) return null
    const where = tablespaceLocation || server.data_directory
    return { path: where, free: await freeBytes(where) }
  } catch {
    return null // not superuser, or the server is elsewhere
  }
}

async function freeBytes(where: string): Promise<number> {
  const s = await statfs(where)
  return Number(s.bavail) * Number(s.bsize)
}

export async function diskRefusal(
  db: Queryable,
  options: ReindexOptions,
  largest: { name: string; expectedBytes: number; tablespaceLocation: string } | undefined,
): Promise<{ refusal: Refusal | null; note: string }> {
  if (!largest) return { refusal: null, note: 'no rebuild planned: disk not checked' }
  const disk = await freeDisk(db, options, largest.tablespaceLocation)
  const { factor, reserve } = options.preflight.disk
  const needed = Math.ceil(largest.expectedBytes * factor + reserve)
  if (!disk)
    return {
      refusal: null,
      note: `free disk unknown (server not on this machine; set preflight.disk.path to check it): the largest rebuild needs about ${formatBytes(needed)}`,
    }
  const note = `${formatBytes(disk.free)} free at ${disk.path}; the largest rebuild (${largest.name}) needs ${formatBytes(needed)}`
  if (disk.free >= needed) return { refusal: null, note }
  return {
    refusal: {
      code: 'LOW_DISK',
      message: `only ${formatBytes(disk.free)} is free at ${disk.path}, less than the ${formatBytes(needed)} needed to rebuild ${largest.name} (${factor} × its expected size of ${formatBytes(largest.expectedBytes)}${reserve ? ` + a reserve of ${formatBytes(reserve)}` : ''})`,
      hint: 'Free disk space, exclude the index, or lower preflight.disk.factor/reserve if you know the rebuild needs less.',
    },
    note,
  }
}
