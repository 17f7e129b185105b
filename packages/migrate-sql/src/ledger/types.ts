import type { MigrationFile } from '../files/migration-file.ts'
import type { MigrationSession } from '../session.ts'

/** One ledger row, whichever table it came from. */
export interface LedgerRow {
  version: string
  /** File name without `.sql`, or Prisma's directory name. */
  name: string
  kind: 'versioned' | 'repeatable' | 'baseline'
  checksum: string
  contentSha256: string | null
  appliedAt: Date
  /** False while a no-transaction file is in progress, or after it failed part-way. */
  finished: boolean
  durationMs: number | null
  appliedBy: string | null
  statementsTotal: number | null
  statementsApplied: number | null
  error: string | null
}

export interface Ledger {
  /** dbops' own table, or Prisma's `_prisma_migrations`. */
  readonly kind: 'dbops' | 'prisma'
  /** `schema.table`, for messages. */
  readonly display: string
  readonly lockKey: bigint
  /** Creates the table when missing (only under the lock). */
  ensure(session: MigrationSession): Promise<void>
  /** The rows, or [] when the table does not exist yet (read-only commands never create it). */
  load(session: MigrationSession): Promise<LedgerRow[]>
  /** Whether an applied row still matches the file on disk. */
  matches(row: LedgerRow, file: MigrationFile): boolean
  /** The statement that records a transactional file, run inside its transaction. */
  recordSql(file: MigrationFile, statements: number): string
  /**
   * No-transaction files: a row written before the first statement, updated as they run.
   * `appliedChecksum`: the checksum of the statements run so far (applied-part.ts), which the
   * dbops ledger keeps in `checksum` until the file finishes.
   */
  started(
    session: MigrationSession,
    file: MigrationFile,
    statements: number,
    resumeAt: number,
    appliedChecksum: string,
  ): Promise<void>
  progress(
    session: MigrationSession,
    file: MigrationFile,
    applied: number,
    appliedChecksum: string,
  ): Promise<void>
  finished(session: MigrationSession, file: MigrationFile, durationMs: number): Promise<void>
  failed(session: MigrationSession, file: MigrationFile, message: string): Promise<void>
  /** The statement that forgets a file (after its down section ran). */
  removeSql(file: MigrationFile): string
  /** Records the file's current checksum on its applied row (`dbops migrate repair`); for a part-way file, of its applied part. */
  repairSql?(file: MigrationFile, appliedChecksum?: string): string
  /** Marks a file applied without running it. */
  baselineSql(file: MigrationFile): string
}
