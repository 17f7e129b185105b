import type { Context } from 'dbops/plugin'
import type pg from 'pg'
import type { z } from 'zod'
import type { Unit } from './thresholds.ts'

/** Worst wins: critical > warning > unknown > ok. `skipped` means "does not apply here" and never counts. */
export type Status = 'ok' | 'warning' | 'critical' | 'unknown' | 'skipped'

/** One object a check is about: an index, a session, a sequence, a standby. */
export interface Finding {
  /** What it is, for people: `public.orders_user_id_idx`, `pid 4121 (app@shop)`. */
  object: string
  /** The measured value in the check's unit; compared to the thresholds. */
  value: number | null
  status?: Status
  /** One line of context: the query text, the redundant-with index, the blocker. */
  detail?: string
}

/** What a check's `run` returns; the engine turns it into a `CheckResult`. */
export interface CheckOutcome {
  /** The check's headline value (default: the worst finding's value, else 0). */
  value?: number | null
  findings?: Finding[]
  /** Total matching objects when `findings` was cut to the listing limit. */
  total?: number
  /** Overrides the threshold comparison (unknown, skipped, or a status the check decides itself). */
  status?: Status
  /** One line for people; the engine writes one when absent. */
  message?: string
  /** Set when part of what the check should see was invisible (privileges, locks): never hidden behind OK. */
  unknownReason?: string
}

/** Facts about the server, gathered once by the connection check. */
export interface ServerInfo {
  versionNum: number
  version: string
  inRecovery: boolean
  user: string
  superuser: boolean
  /** Member of pg_monitor (or superuser): sees every session's state and query. */
  monitor: boolean
  database: string
  blockSize: number
  extensions: Set<string>
  /** The session's own statement_timeout in ms (role, database or pool.statementTimeoutMs); 0: none. Checks run under health's. */
  sessionStatementTimeoutMs: number
}

export interface CheckContext<O = Record<string, unknown>> {
  /** Runs a statement inside this check's read-only transaction (its statement_timeout and lock_timeout apply). */
  sql<R extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    params?: unknown[],
  ): Promise<R[]>
  /** The client of this check, for checks that need savepoints. */
  client: pg.ClientBase
  server: ServerInfo
  options: O & ThresholdOptions
  /** At most this many objects are listed per check. */
  limit: number
  /** `database`: sessions of this database only; `cluster`: every database of the server. */
  scope: 'database' | 'cluster'
  ctx: Context
  /** Milliseconds this check may still spend. */
  remainingMs(): number
}

export interface ThresholdOptions {
  enabled: boolean
  warning: number | null
  critical: number | null
  timeoutMs?: number
}

export interface CheckDefinition<S extends z.ZodRawShape = z.ZodRawShape> {
  id: string
  title: string
  unit: Unit
  /** `above`: higher values are worse (default); `below`: lower values are worse (cache hit ratio). */
  direction?: 'above' | 'below'
  defaults: { warning: number | null; critical: number | null }
  /** Where the defaults come from (pghero, check_postgres, postgres_exporter, ...). */
  source: string
  /** What to do about a finding, shown under a non-OK result. */
  hint: string
  /** Check-specific options besides enabled/warning/critical/timeoutMs. */
  options?: S
  /** Needs no database connection (pool stats, backup manifests). */
  local?: boolean
  run(check: CheckContext<z.output<z.ZodObject<S>>>): Promise<CheckOutcome>
}

export interface CheckResult {
  check: string
  title: string
  status: Exclude<Status, never>
  value: number | null
  unit: Unit
  /** Value formatted for people: `12m 3s`, `93.4%`, `1.2 GB`. */
  display: string
  thresholds: { warning: number | null; critical: number | null; direction: 'above' | 'below' }
  message: string
  findings: Finding[]
  total: number
  durationMs: number
  hint?: string
  /** Why the status is unknown or skipped. */
  reason?: string
}

export interface HealthReport {
  schemaVersion: 1
  status: Exclude<Status, 'skipped'>
  /** `user@host:port/db`: never a password. */
  target: string
  database: string
  serverVersion?: string
  startedAt: string
  durationMs: number
  counts: Record<Status, number>
  checks: CheckResult[]
}
