import { parseSince } from '../options.ts'
import type { DestinationRead } from './backups.ts'
import type { MigrationsState } from './migrations.ts'
import type { CheckNow, CheckSeries, RunRow, SourceState } from './types.ts'

/** Whether the database answered the last read, and since when it has not. */
export interface DatabaseState {
  up: boolean | null
  checkedAt: string | null
  error?: string
  downSince?: string
  lastUpAt?: string
}

/** What the dashboard last knew, source by source; a source that fails keeps its last good data. */
export interface DashboardState {
  since: Date
  target: string
  refreshedAt: string | null
  /** Bumped after every read: views may cache what they derive per version. */
  version: number
  database: DatabaseState
  sources: {
    runs: SourceState
    health: SourceState
    migrations: SourceState
    backups: Record<string, SourceState>
  }
  runs: Map<string, RunRow>
  runsRecorded: boolean
  health: HealthState
  backups: Map<string, DestinationRead>
  migrations: MigrationsState | null
}

export interface HealthState {
  now: CheckNow[]
  series: CheckSeries[]
  recorded: boolean
  /** When the newest recorded result was taken: a new one means a run landed. */
  newest: string | null
}

/** A source never read yet. */
export const unread = (): SourceState => ({ at: null, triedAt: null })

/** A source read successfully at `now`. */
export const readAt = (now: Date): SourceState => ({
  at: now.toISOString(),
  triedAt: now.toISOString(),
})

/** Nothing read yet: every source unread, the database's state unknown. */
export function initialState(
  target: string,
  destinations: string[],
  since: string,
): DashboardState {
  return {
    since: new Date(Date.now() - parseSince(since)),
    target,
    refreshedAt: null,
    version: 0,
    database: { up: null, checkedAt: null },
    sources: {
      runs: unread(),
      health: unread(),
      migrations: unread(),
      backups: Object.fromEntries(destinations.map((n) => [n, unread()])),
    },
    runs: new Map(),
    runsRecorded: false,
    health: { now: [], series: [], recorded: false, newest: null },
    backups: new Map(),
    migrations: null,
  }
}

/**
 * The database's state after a read at `now`: up, or down with the (scrubbed) error,
 * keeping since when it is down and when it last answered.
 */
export function databaseAfterRead(
  previous: DatabaseState,
  now: Date,
  error?: string,
): DatabaseState {
  const at = now.toISOString()
  if (error === undefined) return { up: true, checkedAt: at, lastUpAt: at }
  return {
    up: false,
    checkedAt: at,
    error,
    downSince: previous.up === false ? previous.downSince : at,
    ...(previous.lastUpAt ? { lastUpAt: previous.lastUpAt } : {}),
  }
}
