import type { MigrationSet } from './files/discover.ts'
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
  /** No-transaction files started but not finished (killed or failed part-way). */
  partial: Array<{ file: MigrationFile; row: LedgerRow }>
  /** Repeatable files new or changed since they last ran. */
  repeatablePending: MigrationFile[]
  repeatableApplied: Array<{ file: MigrationFile; row: LedgerRow }>
  duplicates: MigrationSet['duplicates']
  /** Baseline rows (marked applied without running). */
  baseline: LedgerRow[]
}

/** Compares the files on disk with the ledger. Pure: no database access. */
export function computeStatus(set: MigrationSet, rows: LedgerRow[], ledger: Ledger, byName: boolean): MigrationStatus {
  const keyOfFile = (f: MigrationFile) => (byName ? f.ledgerName : f.kind === 'versioned' ? BigInt(f.version).toString() : f.version)
  const keyOfRow = (r: LedgerRow) => (byName ? r.name : /^\d+$/.test(r.version) ? BigInt(r.version).toString() : r.version)
  const rowsByKey = new Map(rows.map((r) => [keyOfRow(r), r]))
  const status: MigrationStatus = { applied: [], pending: [], outOfOrder: [], drifted: [], missing: [], partial: [], repeatablePending: [], repeatableApplied: [], duplicates: set.duplicates, baseline: [] }
  const seen = new Set<string>()
  let newestApplied = -1n
  for (const r of rows) if (r.kind !== 'repeatable' && /^\d+$/.test(r.version) && BigInt(r.version) > newestApplied) newestApplied = BigInt(r.version)
  for (const file of set.versioned) {
    const key = keyOfFile(file)
    const row = rowsByKey.get(key)
    if (!row) {
      status.pending.push(file)
      if (file.order < newestApplied) status.outOfOrder.push(file)
      continue
    }
    seen.add(key)
    if (row.kind === 'baseline') status.applied.push({ file, row })
    else if (!ledger.matches(row, file)) status.drifted.push({ file, row })
    else if (!row.finished) status.partial.push({ file, row })
    else status.applied.push({ file, row })
  }
  for (const file of set.repeatable) {
    const key = keyOfFile(file)
    const row = rowsByKey.get(key)
    seen.add(key)
    if (row && row.finished && ledger.matches(row, file)) status.repeatableApplied.push({ file, row })
    else status.repeatablePending.push(file)
  }
  for (const [key, row] of rowsByKey) {
    if (seen.has(key)) continue
    if (row.kind === 'baseline') status.baseline.push(row)
    else if (row.kind !== 'repeatable') status.missing.push(row)
  }
  return status
}
