import { listBackupSets, type BackupManifest, type Storage } from 'dbops/plugin'
import { manifestCachingStorage } from './manifest-cache.ts'
import type { BackupRow, Incomplete } from './types.ts'

/** What a verification proved, weakest first. */
const LEVELS = ['checksum', 'archive-list', 'restore']

export interface DestinationRead {
  destination: string
  sets: { row: BackupRow; manifest: BackupManifest }[]
  incomplete: Incomplete[]
}

/** Every set of every database in one destination, through core's listing (manifests only), newest first. */
export async function readDestination(
  storage: Storage,
  cache: Map<string, { size: number; modified: number; body: string }>,
): Promise<DestinationRead> {
  const listed = await listBackupSets(manifestCachingStorage(storage, cache))
  return {
    destination: storage.name,
    sets: [
      ...listed.sets.map((s) => ({
        row: backupRow(storage, s.prefix, s.manifest),
        manifest: s.manifest,
      })),
      // A set whose manifest is believable but whose objects are not (missing, resized) is
      // shown, marked damaged: that is what the person on call needs to see first.
      ...listed.damaged
        .filter((d) => d.manifestTrusted)
        .map((d) => ({
          row: { ...backupRow(storage, d.prefix, d.manifest), damaged: d.problems },
          manifest: d.manifest,
        })),
    ].sort((a, b) => Date.parse(b.row.startedAt) - Date.parse(a.row.startedAt)),
    incomplete: [
      ...listed.orphans.map((prefix) => ({
        destination: storage.name,
        prefix,
        kind: 'no-manifest' as const,
      })),
      ...listed.unreadable.map((u) => ({
        destination: storage.name,
        prefix: u.prefix,
        kind: 'unreadable' as const,
        error: u.error,
      })),
    ],
  }
}

export function backupRow(storage: Storage, prefix: string, m: BackupManifest): BackupRow {
  const passed = m.verification.filter((v) => v.status === 'verified')
  const proven = passed.reduce<string | null>(
    (best, v) => (LEVELS.indexOf(v.method) > LEVELS.indexOf(best ?? '') ? v.method : best),
    null,
  )
  const restores = passed
    .filter((v) => v.method === 'restore')
    .map((v) => v.at)
    .sort()
  const last = m.verification.at(-1)
  return {
    id: m.id,
    database: m.database,
    destination: storage.name,
    location: storage.location,
    prefix,
    startedAt: m.startedAt,
    finishedAt: m.finishedAt,
    durationMs: Math.max(0, Date.parse(m.finishedAt) - Date.parse(m.startedAt)),
    bytes: m.objects.reduce((n, o) => n + o.size, 0),
    format: m.format,
    compression: m.compression.algorithm,
    encrypted: m.encryption !== null,
    tags: m.tags,
    lastVerification: last
      ? {
          status: last.status,
          method: last.method,
          at: last.at,
          ...(last.detail ? { detail: last.detail } : {}),
        }
      : null,
    provenLevel: proven,
    restoreProvenAt: restores.at(-1) ?? null,
  }
}
