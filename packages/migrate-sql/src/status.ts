import { prismaOrder, type MigrationSet } from './files/discover.ts'
import type { MigrationFile } from './files/migration-file.ts'
import type { Ledger, LedgerRow } from './ledger/types.ts'

export interface MigrationStatus {
  /** Applied and unchanged, in file order. */
  applied: Array<{ file: MigrationFile; row: LedgerRow }>
  /** Not applied yet, in the order they would run. */
  pending: MigrationFile[]
  /** Pending files older than the newest applied version (a branch merged late). */
  outOfOrder: MigrationFile[]
  /** Applied files edited since (their checksum changed). */
  drifted: Array<{ file: MigrationFile; row: LedgerRow }>
  /** In the ledger, no longer on disk. */
  missing: LedgerRow[]
  /**
   * Files started but not finished (a no-transaction file killed or failed part-way; with
   * Prisma's ledger, any file Prisma or dbops recorded as failed). `edited`: the file changed
   * since; apply checks that the statements already applied are not what changed.
   */
  partial: Array<{ file: MigrationFile; row: LedgerRow; edited: boolean }>
  /** Repeatable files new or changed since they last ran. */
  repeatablePending: MigrationFile[]
  repeatableApplied: Array<{ file: MigrationFile; row: LedgerRow }>
  duplicates: MigrationSet['duplicates']
  /** Baseline rows (marked applied without running). */
  baseline: LedgerRow[]
}

/** Compares the files on disk with the ledger. Pure: no database access. */
export function computeStatus(
  set: MigrationSet,
  rows: LedgerRow[],
  ledger: Ledger,
  byName: boolean,
): MigrationStatus {
  const keyOfFile = (f: MigrationFile) =>
    byName ? f.ledgerName : f.kind === 'versioned' ? BigInt(f.version).toString() : f.version
  const keyOfRow = (r: LedgerRow) =>
    byName ? r.name : /^\d+$/.test(r.version) ? BigInt(r.version).toString() : r.version
  const rowsByKey = new Map(rows.map((r) => [keyOfRow(r), r]))
  const status: MigrationStatus = {
    applied: [],
    pending: [],
    outOfOrder: [],
    drifted: [],
    missing: [],
    partial: [],
    repeatablePending: [],
    repeatableApplied: [],
    duplicates: set.duplicates,
    baseline: [],
  }
  const seen = new Set<string>()
  const isOutOfOrder = outOfOrderCheck(rows, byName)
  for (const file of set.versioned) {
    const key = keyOfFile(file)
    const row = rowsByKey.get(key)
    if (!row) {
      status.pending.push(file)
      if (isOutOfOrder(file)) status.outOfOrder.push(file)
      continue
    }
    seen.add(key)
    if (row.kind === 'baseline') status.applied.push({ file, row })
    // An unfinished row is judged by what has run of it, not as drift of a file that was applied.
    else if (!row.finished) status.partial.push({ file, row, edited: !ledger.matches(row, file) })
    else if (!ledger.matches(row, file)) status.drifted.push({ file, row })
    else status.applied.push({ file, row })
  }
  for (const file of set.repeatable) {
    const key = keyOfFile(file)
    const row = rowsByKey.get(key)
    seen.add(key)
    if (row?.finished && ledger.matches(row, file)) status.repeatableApplied.push({ file, row })
    else status.repeatablePending.push(file)
  }
  for (const [key, row] of rowsByKey) {
    if (seen.has(key)) continue
    if (row.kind === 'baseline') status.baseline.push(row)
    else if (row.kind !== 'repeatable') status.missing.push(row)
  }
  return status
}

/**
 * Whether a pending file comes before the newest applied one: by version with the dbops
 * ledger, by migration name (Prisma's order) with Prisma's.
 */
function outOfOrderCheck(rows: LedgerRow[], byName: boolean): (file: MigrationFile) => boolean {
  const versioned = rows.filter((r) => r.kind !== 'repeatable')
  if (byName) {
    const newest = versioned.reduce<string | undefined>(
      (max, r) => (max === undefined || prismaOrder(r.name, max) > 0 ? r.name : max),
      undefined,
    )
    return (file) => newest !== undefined && prismaOrder(file.ledgerName, newest) < 0
  }
  let newest = -1n
  for (const r of versioned)
    if (/^\d+$/.test(r.version) && BigInt(r.version) > newest) newest = BigInt(r.version)
  return (file) => file.order < newest
}
