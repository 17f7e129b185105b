import { Readable } from 'node:stream'
import {
  DbopsError,
  MANIFEST_FILE,
  listBackupSets,
  newestFirst,
  type BackupManifest,
  type BackupSet,
  type Context,
  type DamagedSet,
  type Storage,
} from 'dbops/plugin'

export interface FoundSet extends BackupSet {
  storage: Storage
}

export interface FoundDamaged extends DamagedSet {
  storage: Storage
}

export interface FoundUnreadable {
  storage: string
  prefix: string
  /** The folder's name: the id the set would have. */
  id: string
  error: string
}

export interface AllSets {
  /** Sound sets, newest first: the only ones `latest` and retention consider. */
  sets: FoundSet[]
  /** Readable manifests that cannot be trusted (dates, missing objects, another folder's id). */
  damaged: FoundDamaged[]
  unreadable: FoundUnreadable[]
  orphans: { storage: string; prefix: string }[]
}

/** Every set in every destination (optionally of one database). */
export async function allSets(ctx: Pick<Context, 'storage'>, database?: string): Promise<AllSets> {
  const out: AllSets = { sets: [], damaged: [], unreadable: [], orphans: [] }
  const now = new Date()
  for (const storage of ctx.storage.values()) {
    let listed: Awaited<ReturnType<typeof listBackupSets>>
    try {
      listed = await listBackupSets(storage, database, now)
    } catch (error) {
      throw new DbopsError(
        'STORAGE_LIST_FAILED',
        `could not list backups in ${storage.name} (${storage.location}): ${(error as Error).message}`,
        { cause: error },
      )
    }
    for (const set of listed.sets) out.sets.push({ ...set, storage })
    for (const set of listed.damaged) out.damaged.push({ ...set, storage })
    for (const prefix of listed.orphans) out.orphans.push({ storage: storage.name, prefix })
    for (const u of listed.unreadable) out.unreadable.push({ storage: storage.name, ...u })
  }
  out.sets.sort(newestFirst)
  return out
}

/**
 * The set named `<id>` or `latest`, from `--from <destination>` or the first destination
 * holding it. With `latest`, the database is the configured one unless given. `latest` is
 * the newest sound set. An id may name a set whose manifest is believable but whose
 * objects are missing or of another size: the caller's own checks then fail on them (and
 * verify records it). An id naming an untrustworthy manifest or an unreadable one fails
 * with what is wrong with it rather than "no such backup".
 */
export async function findSet(
  ctx: Pick<Context, 'storage' | 'db'>,
  ref: string,
  options: { from?: string; database?: string } = {},
): Promise<FoundSet> {
  if (options.from && !ctx.storage.has(options.from)) {
    throw new DbopsError('STORAGE_UNKNOWN', `there is no destination named '${options.from}'`, {
      hint: `Destinations: ${[...ctx.storage.keys()].join(', ')}.`,
      exitCode: 2,
    })
  }
  const scoped = {
    storage: options.from ? new Map([[options.from, ctx.storage.get(options.from)!]]) : ctx.storage,
  }
  const database =
    ref === 'latest' ? (options.database ?? ctx.db.target.database) : options.database
  const listed = await allSets(scoped, database)
  const found =
    ref === 'latest'
      ? listed.sets[0]
      : (listed.sets.find((s) => s.manifest.id === ref) ??
        listed.damaged.find((d) => d.manifestTrusted && d.manifest.id === ref))
  if (found) return found
  if (ref !== 'latest') throwIfUntrusted(listed, ref)
  const where = options.from ?? [...ctx.storage.keys()].join(', ')
  const skipped = listed.damaged.length + listed.unreadable.length
  throw new DbopsError(
    'BACKUP_NOT_FOUND',
    ref === 'latest'
      ? `there is no sound backup of ${database} in ${where}${skipped ? ` (${skipped} damaged set(s) left out)` : ''}`
      : `there is no backup with id ${ref} in ${where}`,
    {
      hint: 'List the backups with `dbops backups list`.',
    },
  )
}

/** Fails, saying why, when `id` names only untrustworthy or unreadable manifests. */
export function throwIfUntrusted(
  listed: Pick<AllSets, 'damaged' | 'unreadable'>,
  id: string,
): void {
  const damaged = listed.damaged.find(
    (d) => !d.manifestTrusted && (d.manifest.id === id || d.prefix.split('/')[1] === id),
  )
  if (damaged) {
    throw new DbopsError(
      'BACKUP_DAMAGED',
      `backup ${id} of ${damaged.manifest.database} in ${damaged.storage.name} is damaged: ${damaged.problems.join('; ')}`,
      {
        hint: 'dbops does not trust this manifest, so it neither verifies nor restores the set, and retention neither counts nor deletes it. Use another set; fix or remove this one by hand once you have looked at it.',
      },
    )
  }
  const unreadable = listed.unreadable.find((u) => u.id === id)
  if (unreadable) {
    throw new DbopsError(
      'BACKUP_MANIFEST_UNREADABLE',
      `the manifest of backup ${id} in ${unreadable.storage} is unreadable: ${unreadable.error}`,
      {
        hint: 'Without its manifest the set cannot be checked or restored by dbops. Restore another set, or repair the manifest from a copy in another destination.',
      },
    )
  }
}

export async function writeManifest(
  storage: Storage,
  prefix: string,
  manifest: BackupManifest,
  signal?: AbortSignal,
): Promise<void> {
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`)
  await storage.put(prefix + MANIFEST_FILE, Readable.from([body]), {
    contentType: 'application/json',
    signal,
  })
}
