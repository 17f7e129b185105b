import { Readable } from 'node:stream'
import { DbopsError, MANIFEST_FILE, listBackupSets, type BackupManifest, type BackupSet, type Context, type Storage } from 'dbops/plugin'

export interface FoundSet extends BackupSet {
  storage: Storage
}

/** Every set in every destination (optionally of one database), newest first. */
export async function allSets(ctx: Pick<Context, 'storage'>, database?: string): Promise<{ sets: FoundSet[]; orphans: { storage: string; prefix: string }[]; unreadable: { storage: string; prefix: string; error: string }[] }> {
  const sets: FoundSet[] = []
  const orphans: { storage: string; prefix: string }[] = []
  const unreadable: { storage: string; prefix: string; error: string }[] = []
  for (const storage of ctx.storage.values()) {
    let listed
    try {
      listed = await listBackupSets(storage, database)
    } catch (error) {
      throw new DbopsError('STORAGE_LIST_FAILED', `could not list backups in ${storage.name} (${storage.location}): ${(error as Error).message}`, { cause: error })
    }
    for (const set of listed.sets) sets.push({ ...set, storage })
    for (const prefix of listed.orphans) orphans.push({ storage: storage.name, prefix })
    for (const u of listed.unreadable) unreadable.push({ storage: storage.name, ...u })
  }
  sets.sort((a, b) => b.manifest.startedAt.localeCompare(a.manifest.startedAt))
  return { sets, orphans, unreadable }
}

/**
 * The set named `<id>` or `latest`, from `--from <destination>` or the first destination
 * holding it. With `latest`, the database is the configured one unless given.
 */
export async function findSet(ctx: Pick<Context, 'storage' | 'db'>, ref: string, options: { from?: string; database?: string } = {}): Promise<FoundSet> {
  if (options.from && !ctx.storage.has(options.from)) {
    throw new DbopsError('STORAGE_UNKNOWN', `there is no destination named '${options.from}'`, { hint: `Destinations: ${[...ctx.storage.keys()].join(', ')}.`, exitCode: 2 })
  }
  const scoped = { storage: options.from ? new Map([[options.from, ctx.storage.get(options.from)!]]) : ctx.storage }
  const database = ref === 'latest' ? (options.database ?? ctx.db.target.database) : options.database
  const { sets } = await allSets(scoped, database)
  const found = ref === 'latest' ? sets[0] : sets.find((s) => s.manifest.id === ref)
  if (!found) {
    const where = options.from ?? [...ctx.storage.keys()].join(', ')
    throw new DbopsError('BACKUP_NOT_FOUND', ref === 'latest' ? `there is no backup of ${database} in ${where}` : `there is no backup with id ${ref} in ${where}`, {
      hint: 'List the backups with `dbops backups list`.',
    })
  }
  return found
}

export async function writeManifest(storage: Storage, prefix: string, manifest: BackupManifest, signal?: AbortSignal): Promise<void> {
  const body = Buffer.from(JSON.stringify(manifest, null, 2) + '\n')
  await storage.put(prefix + MANIFEST_FILE, Readable.from([body]), { contentType: 'application/json', signal })
}
