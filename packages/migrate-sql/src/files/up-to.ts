import type { MigrationFile } from './migration-file.ts'

/**
 * The versioned files up to and including `target`, in run order. `target` is a version
 * (digits: every file whose version is at most it) or, for Prisma's folders, a migration
 * name (`20240101000000_init`).
 */
export function filesUpTo(files: MigrationFile[], target: string): MigrationFile[] {
  const version = /^\d+$/.test(target) ? BigInt(target) : undefined
  let last = -1
  for (const f of files) {
    if (f.kind !== 'versioned') continue
    if (f.ledgerName === target || (version !== undefined && f.order >= 0n && f.order <= version))
      last = Math.max(last, f.rank)
  }
  return files
    .filter((f) => f.kind === 'versioned' && f.rank <= last)
    .sort((a, b) => a.rank - b.rank)
}
