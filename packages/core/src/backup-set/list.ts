import { text } from 'node:stream/consumers'
import type { Storage } from '../storage/types.ts'
import { isoTime } from './dates.ts'
import { MANIFEST_FILE, backupManifestSchema, type BackupManifest } from './manifest.ts'
import { manifestProblems } from './problems.ts'

export interface BackupSet {
  /** The folder of the set in its storage: `<database>/<id>/`. */
  prefix: string
  manifest: BackupManifest
}

/** A readable manifest that cannot be trusted as a backup (see `manifestProblems`). */
export interface DamagedSet extends BackupSet {
  problems: string[]
  /**
   * True when only the stored objects are wrong (missing, another size): the manifest is
   * believable, so a check or restore named by id may read it and fail on its own terms.
   */
  manifestTrusted: boolean
}

export interface UnreadableSet {
  prefix: string
  /** The id the folder name gives (`<database>/<id>/`): the manifest itself could not say. */
  id: string
  error: string
}

export interface ListedSets {
  /** Sound sets, newest first: the only ones retention decides about and `latest` picks from. */
  sets: BackupSet[]
  damaged: DamagedSet[]
  unreadable: UnreadableSet[]
  /** Folders without a manifest: leftovers of failed or running backups. */
  orphans: string[]
}

/**
 * Backup sets in a destination. Only folders with a manifest are sets; a manifest that is
 * not valid JSON or not a dbops manifest is `unreadable`; one whose dates are not believable,
 * whose objects are missing or of the wrong size, or that names another folder is `damaged`.
 * Neither kind is ever mistaken for a backup: they are reported and left alone.
 */
export async function listBackupSets(
  storage: Storage,
  database?: string,
  now: Date = new Date(),
): Promise<ListedSets> {
  const objects = await storage.list(database ? `${database}/` : '')
  const folders = new Map<string, boolean>()
  const sizes = new Map<string, number>()
  for (const object of objects) {
    const slash = object.key.lastIndexOf('/')
    const folder = object.key.slice(0, slash + 1)
    if (folder.split('/').length !== 3) continue // <database>/<id>/<file>
    sizes.set(object.key, object.size)
    folders.set(
      folder,
      (folders.get(folder) ?? false) || object.key.slice(slash + 1) === MANIFEST_FILE,
    )
  }
  const listed: ListedSets = { sets: [], damaged: [], unreadable: [], orphans: [] }
  for (const [prefix, hasManifest] of folders) {
    if (!hasManifest) {
      listed.orphans.push(prefix)
      continue
    }
    let manifest: BackupManifest
    try {
      manifest = await readManifest(storage, prefix)
    } catch (error) {
      listed.unreadable.push({ prefix, id: prefix.split('/')[1]!, error: (error as Error).message })
      continue
    }
    const problems = manifestProblems(prefix, manifest, sizes, now)
    if (problems.manifest.length + problems.objects.length === 0)
      listed.sets.push({ prefix, manifest })
    else
      listed.damaged.push({
        prefix,
        manifest,
        problems: [...problems.manifest, ...problems.objects],
        manifestTrusted: problems.manifest.length === 0,
      })
  }
  listed.sets.sort(newestFirst)
  return listed
}

/** Newest first by `startedAt` as a time (not as text: offsets and fractions differ). */
export function newestFirst(a: BackupSet, b: BackupSet): number {
  return (isoTime(b.manifest.startedAt) ?? -Infinity) - (isoTime(a.manifest.startedAt) ?? -Infinity)
}

export async function readManifest(storage: Storage, prefix: string): Promise<BackupManifest> {
  const where = `${prefix}${MANIFEST_FILE}`
  const raw = await text(await storage.get(prefix + MANIFEST_FILE))
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch (error) {
    throw new Error(`${where} is not valid JSON (${(error as Error).message})`, { cause: error })
  }
  const parsed = backupManifestSchema.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.length ? `${issue.path.join('.')}: ` : ''
    throw new Error(`${where} is not a dbops manifest: ${path}${issue?.message}`)
  }
  return parsed.data
}
