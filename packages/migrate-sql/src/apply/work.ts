import type { Context } from 'dbops/plugin'
import type { MigrationFile } from '../files/migration-file.ts'
import type { Ledger } from '../ledger/types.ts'
import type { MigrateOptions } from '../options.ts'
import type { MigrationSession } from '../session.ts'
import type { PreparedSection } from '../sql/prepare.ts'
import { literal } from '../sql/quote.ts'

export interface AppliedFile {
  file: string
  version: string
  kind: 'versioned' | 'repeatable'
  transactional: boolean
  statements: number
  durationMs: number
  /** Retries after lock timeouts (SQLSTATE 55P03). */
  retries: number
  /** A no-transaction file resumed at this statement (0-based) after a killed or failed run. */
  resumedAt?: number
  /** Invalid indexes left by an interrupted CREATE INDEX CONCURRENTLY, dropped before the retry. */
  droppedInvalidIndexes?: string[]
  /** INVALID indexes on the tables this no-transaction file indexes, left by a failed build (an unnamed one cannot be dropped for the user). */
  invalidIndexes?: string[]
}

/** A pending file, parsed and checked, and how it runs. */
export interface Work {
  file: MigrationFile
  section: PreparedSection
  transactional: boolean
  resumeAt: number
  /** A no-transaction file a killed or failed run left part-way. */
  resuming: boolean
}

/** What every way of applying files runs with. */
export interface ApplyRun {
  session: MigrationSession
  ledger: Ledger
  options: MigrateOptions
  ctx: Context
}

export const LOCK_NOT_AVAILABLE = '55P03'

/** The runner's lock_timeout and statement_timeout, for the session or (`local`) one transaction. */
export function settingsSql(options: MigrateOptions, local: boolean): string {
  const scope = local ? 'set local' : 'set'
  return `${scope} lock_timeout = ${literal(`${Math.round(options.lockTimeout)}ms`)}; ${scope} statement_timeout = ${literal(`${Math.round(options.statementTimeout)}ms`)}`
}

/** The wait before retry `attempt` + 1 after a lock timeout: exponential, with jitter. */
export function backoffMs(options: MigrateOptions, attempt: number): number {
  return Math.round(options.retryBackoff * 2 ** attempt * (0.75 + Math.random() / 2))
}

/** What a file's run reports. */
export function appliedFile(
  w: Work,
  durationMs: number,
  retries: number,
  extra: Partial<AppliedFile> = {},
): AppliedFile {
  return {
    file: w.file.display,
    version: w.file.version,
    kind: w.file.kind,
    transactional: w.transactional,
    statements: w.section.statements.length,
    durationMs: Math.round(durationMs),
    retries,
    ...extra,
  }
}

const BATCH_FILES = 100
const BATCH_BYTES = 512 * 1024

/** Consecutive transactional files, grouped for one message each; other files alone. */
export function batches(work: Work[]): Work[][] {
  const out: Work[][] = []
  let current: Work[] = []
  let bytes = 0
  for (const w of work) {
    const size = w.file.up.text.length
    if (
      !w.transactional ||
      current.length >= BATCH_FILES ||
      (current.length && bytes + size > BATCH_BYTES)
    ) {
      if (current.length) out.push(current)
      current = []
      bytes = 0
    }
    if (!w.transactional) {
      out.push([w])
      continue
    }
    current.push(w)
    bytes += size
  }
  if (current.length) out.push(current)
  return out
}
