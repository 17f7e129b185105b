import { isVerified, MANIFEST_FILE } from '../backup-set/manifest.ts'
import { listBackupSets, type BackupSet } from '../backup-set/list.ts'
import { objectNameProblem } from '../backup-set/object-name.ts'
import type { Context } from '../context.ts'
import { DbopsError } from '../errors.ts'
import type { Storage } from '../storage/types.ts'
import { decideRetention } from './decide.ts'

export interface RetentionOutcome {
  storage: string
  kept: string[]
  deleted: string[]
  /** Damaged sets and unreadable manifests, by folder id: reported, never deleted, never counted. */
  leftAlone: string[]
  why: Record<string, string>
}

/**
 * Applies the retention policy to every destination, for the run's database. Only sound
 * sets take part: a damaged set (an untrustworthy date, a missing object, an object name
 * that is a path) or an unreadable manifest is left alone and reported, so it can neither
 * take a "newest" slot from a real set nor lead a delete outside its own folder. A set is
 * deleted manifest first, so that a deletion interrupted half-way leaves a folder without a
 * manifest (an orphan, never mistaken for a backup) rather than a manifest without its dump.
 */
export async function applyRetention(
  ctx: Context,
  options: { dryRun: boolean },
): Promise<RetentionOutcome[]> {
  const database = ctx.db.target.database
  const outcomes: RetentionOutcome[] = []
  for (const storage of ctx.storage.values()) {
    ctx.signal.throwIfAborted()
    const now = new Date()
    const { sets, damaged, unreadable } = await listBackupSets(storage, database, now)
    const candidates = sets.map((set) => ({
      id: set.manifest.id,
      startedAt: set.manifest.startedAt,
      verified: isVerified(set.manifest),
      set,
    }))
    const policy = ctx.config.retention.destinations?.[storage.name] ?? ctx.config.retention
    const decision = decideRetention(candidates, policy, now)
    // Keyed by folder: a damaged manifest may claim the id of another set.
    const why = { ...decision.why }
    const leftAlone: string[] = []
    const leave = (prefix: string, reason: string) => {
      const id = prefix.split('/')[1]!
      leftAlone.push(id)
      why[id] = `left alone: ${reason}`
      ctx.logger.warn(`retention: ${storage.name}:${prefix} is left alone: ${reason}`)
    }
    for (const set of damaged) leave(set.prefix, `damaged (${set.problems.join('; ')})`)
    for (const set of unreadable) leave(set.prefix, `unreadable manifest (${set.error})`)
    if (!options.dryRun) for (const { set } of decision.delete) await deleteSet(storage, set)
    outcomes.push({
      storage: storage.name,
      kept: decision.keep.map((c) => c.id),
      deleted: decision.delete.map((c) => c.id),
      leftAlone,
      why,
    })
  }
  return outcomes
}

/**
 * Deletes a set's manifest, then its objects: only keys directly inside the set's folder.
 * Every name is checked before anything is deleted, whoever built the manifest.
 */
export async function deleteSet(storage: Storage, set: BackupSet): Promise<void> {
  for (const object of set.manifest.objects) {
    const problem = objectNameProblem(object.name)
    if (problem)
      throw new DbopsError(
        'BACKUP_OBJECT_NAME_INVALID',
        `refusing to delete ${storage.name}:${set.prefix}: its object name ${JSON.stringify(object.name)} ${problem}`,
        { hint: 'Nothing was deleted. Fix or remove the manifest by hand.' },
      )
  }
  await storage.delete(set.prefix + MANIFEST_FILE)
  for (const object of set.manifest.objects) await storage.delete(set.prefix + object.name)
}
