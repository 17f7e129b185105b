import { text } from 'node:stream/consumers'
import type { Storage } from '../storage/types.ts'
import { MANIFEST_FILE, backupManifestSchema, type BackupManifest } from './manifest.ts'

export interface BackupSet {
  /** The folder of the set in its storage: `<database>/<id>/`. */
  prefix: string
  manifest: BackupManifest
}

export interface UnreadableSet {
  prefix: string
  error: string
}

/**
 * Backup sets in a destination, newest first. Only folders with a readable manifest are
 * sets; folders without one are leftovers of failed runs and are listed apart.
 */
export async function listBackupSets(storage: Storage, database?: string): Promise<{ sets: BackupSet[]; unreadable: UnreadableSet[]; orphans: string[] }> {
  const objects = await storage.list(database ? `${database}/` : '')
  const folders = new Map<string, boolean>()
  for (const object of objects) {
    const slash = object.key.lastIndexOf('/')
    const folder = object.key.slice(0, slash + 1)
    if (folder.split('/').length !== 3) continue // <database>/<id>/<file>
    folders.set(folder, (folders.get(folder) ?? false) || object.key.slice(slash + 1) === MANIFEST_FILE)
  }
  const sets: BackupSet[] = []
  const unreadable: UnreadableSet[] = []
  const orphans: string[] = []
  for (const [prefix, hasManifest] of folders) {
    if (!hasManifest) {
      orphans.push(prefix)
      continue
    }
    try {
      sets.push({ prefix, manifest: await readManifest(storage, prefix) })
    } catch (error) {
      unreadable.push({ prefix, error: (error as Error).message })
    }
  }
  sets.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt))
  return { sets, unreadable, orphans }
}

export async function readManifest(storage: Storage, prefix: string): Promise<BackupManifest> {
  const raw = await text(await storage.get(prefix + MANIFEST_FILE))
  const parsed = backupManifestSchema.safeParse(JSON.parse(raw))
  if (!parsed.success) throw new Error(`${prefix}${MANIFEST_FILE} is not a dbops manifest: ${parsed.error.issues[0]?.message}`)
  return parsed.data
}
