import { isVerified, MANIFEST_FILE } from '../backup-set/manifest.ts'
import { listBackupSets, type BackupSet } from '../backup-set/list.ts'
import type { Context } from '../context.ts'
import type { Storage } from '../storage/types.ts'
import { decideRetention } from './decide.ts'

export interface RetentionOutcome {
  storage: string
  kept: string[]
  deleted: string[]
  why: Record<string, string>
}

/**
 * Applies the retention policy to every destination, for the run's database. A set is
 * deleted manifest first, so that a deletion interrupted half-way leaves a folder without a
 * manifest (an orphan, never mistaken for a backup) rather than a manifest without its dump.
 */
export async function applyRetention(ctx: Context, options: { dryRun: boolean }): Promise<RetentionOutcome[]> {
  const database = ctx.db.target.database
  const outcomes: RetentionOutcome[] = []
  for (const storage of ctx.storage.values()) {
    ctx.signal.throwIfAborted()
    const { sets } = await listBackupSets(storage, database)
    const candidates = sets.map((set) => ({ id: set.manifest.id, startedAt: set.manifest.startedAt, verified: isVerified(set.manifest), set }))
    const policy = ctx.config.retention.destinations?.[storage.name] ?? ctx.config.retention
    const decision = decideRetention(candidates, policy, new Date())
    if (!options.dryRun) for (const { set } of decision.delete) await deleteSet(storage, set)
    outcomes.push({ storage: storage.name, kept: decision.keep.map((c) => c.id), deleted: decision.delete.map((c) => c.id), why: decision.why })
  }
  return outcomes
}

export async function deleteSet(storage: Storage, set: BackupSet): Promise<void> {
  await storage.delete(set.prefix + MANIFEST_FILE)
  for (const object of set.manifest.objects) await storage.delete(set.prefix + object.name)
}
