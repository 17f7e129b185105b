/** The JSON shapes the dashboard serves (`/api/...`) and the HTML report inlines. Dates are ISO strings. */

import type { RecordedStep } from 'dbops/plugin'

export type Status = 'ok' | 'warning' | 'critical' | 'unknown'

/** A run's step as the scheduler records it in `dbops.runs.steps`. */
export type RunStep = RecordedStep

export interface RunRow {
  id: string
  schedule: string
  pipelines: string[]
  tags: string[]
  status: 'queued' | 'running' | 'success' | 'failed' | 'aborted' | 'lost'
  tick: string
  queuedAt: string
  startedAt: string | null
  endedAt: string | null
  durationMs: number | null
  error: string | null
  host: string
  pid: number
  /** Recorded by watchers of this version on; absent for older runs. */
  steps: RunStep[] | null
}

export interface CheckNow {
  database: string
  check: string
  title: string
  unit: string
  direction: 'above' | 'below'
  warning: number | null
  critical: number | null
  hint: string | null
  /** When this result was measured. */
  at: string | null
  status: Status | 'skipped'
  value: number | null
  message: string | null
  /** For a non-OK check: since when it has not been OK (its first non-OK result after the last OK one). */
  notOkSince: string | null
}

export interface CheckSeries {
  database: string
  check: string
  /** Bucket starts (unix seconds), the worst value of each bucket in the check's direction, the worst status (0 ok, 1 unknown, 2 warning, 3 critical). */
  t: number[]
  v: (number | null)[]
  s: number[]
  bucketSeconds: number
}

export interface BackupRow {
  id: string
  database: string
  destination: string
  /** Where the destination stores, as it describes itself (`s3://bucket/prefix/`, `/var/backups`): never credentials. */
  location: string
  /** The set's folder in it: `<database>/<id>/`. */
  prefix: string
  startedAt: string
  finishedAt: string
  durationMs: number
  bytes: number
  format: string
  compression: string
  encrypted: boolean
  tags: string[]
  /** Newest verification: status and what it proved. */
  lastVerification: {
    status: 'verified' | 'failed'
    method: string
    at: string
    detail?: string
  } | null
  /** Strongest proof that passed: restore > archive-list > checksum. */
  provenLevel: string | null
  /** When a restore of this set into a scratch database last passed. */
  restoreProvenAt: string | null
  /** Why core's listing calls this set damaged (an object missing or resized); absent when sound. */
  damaged?: string[]
}

export interface Incomplete {
  destination: string
  prefix: string
  /** A folder without a manifest (failed or running backup), or a manifest that does not parse. */
  kind: 'no-manifest' | 'unreadable'
  error?: string
}

export interface SourceState {
  /** When this source was last read successfully (null: never). */
  at: string | null
  /** The last attempt's error, when it failed. */
  error?: string
  /** When the last attempt was made. */
  triedAt: string | null
}
