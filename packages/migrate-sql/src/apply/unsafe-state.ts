import { DbopsError } from 'dbops/plugin'
import { filesUpTo } from '../files/up-to.ts'
import type { Ledger } from '../ledger/types.ts'
import type { MigrateOptions } from '../options.ts'
import type { MigrationStatus } from '../status.ts'
import type { ApplyFlags } from '../apply.ts'

/**
 * Refuses to apply anything while the ledger and the files disagree: an applied file changed
 * (drift), applied files missing from disk, pending files older than the newest applied one,
 * or a Prisma migration started and never finished. Each has its own flag or fix.
 */
export function refuseUnsafeState(
  status: MigrationStatus,
  ledger: Ledger,
  options: MigrateOptions,
  flags: ApplyFlags,
): void {
  if (status.drifted.length) {
    const list = status.drifted.map((d) => d.file.display).join(', ')
    throw new DbopsError(
      'MIGRATION_DRIFT',
      `${status.drifted.length} applied migration file(s) changed since they were applied: ${list}`,
      {
        hint: 'Restore the applied version (git log -p <file>) and put the change in a new migration; if the edit is deliberate and already true of the database, run `dbops migrate repair`.',
      },
    )
  }
  if (status.missing.length && !(flags.allowMissing || options.allowMissing)) {
    throw new DbopsError(
      'MIGRATION_MISSING',
      `${status.missing.length} applied migration(s) are missing from disk: ${status.missing.map((r) => r.name).join(', ')}`,
      {
        hint: `Restore the file(s) (another branch may have them), or pass --allow-missing to go on without them. The ledger is ${ledger.display}.`,
      },
    )
  }
  const upTo =
    flags.to === undefined
      ? undefined
      : new Set(
          filesUpTo(
            [
              ...status.applied.map((a) => a.file),
              ...status.pending,
              ...status.partial.map((p) => p.file),
            ],
            flags.to,
          ),
        )
  const outOfOrder = status.outOfOrder.filter((f) => !upTo || upTo.has(f))
  if (outOfOrder.length && !(flags.allowOutOfOrder || options.outOfOrder)) {
    throw new DbopsError(
      'MIGRATION_OUT_OF_ORDER',
      `${outOfOrder.length} pending migration(s) are older than the newest applied one: ${outOfOrder.map((f) => f.display).join(', ')}`,
      {
        hint: 'Usually a branch merged late. Renumber the file after the newest applied one (dbops migrate new), or pass --allow-out-of-order if it is independent of later migrations.',
      },
    )
  }
  const stuck = status.partial.filter((p) => p.row.statementsApplied === null)
  if (stuck.length) {
    const name = stuck[0]!.file.ledgerName
    throw new DbopsError(
      'MIGRATION_UNFINISHED',
      `migration ${stuck.map((p) => p.file.display).join(', ')} was started and never finished (its ledger row has no finished_at)${stuck[0]!.row.error ? `; it failed with: ${stuck[0]!.row.error}` : ''}`,
      {
        hint: `Check what it changed. Then mark it rolled back (\`prisma migrate resolve --rolled-back ${name}\`) to run it again, or applied (\`--applied ${name}\`) to skip it.`,
      },
    )
  }
}
