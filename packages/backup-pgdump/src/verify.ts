import {
  type BackupManifest,
  type Context,
  DbopsError,
  messageOf,
  readManifest,
  type Storage,
} from 'dbops/plugin'
import { archiveCheck } from './archive-check.ts'
import { allSets, throwIfUntrusted, writeManifest } from './backup-sets.ts'
import { checksumCheck } from './checksum-check.ts'
import type { PgdumpOptions } from './options.ts'
import { restoreCheck } from './restore-check.ts'

export type VerifyLevel = 'checksum' | 'archive' | 'restore'

export interface DestinationCheck {
  storage: string
  method: 'checksum' | 'archive-list' | 'restore'
  status: 'verified' | 'failed'
  detail: string
}

export interface VerifyOutcome {
  id: string
  database: string
  level: VerifyLevel
  status: 'verified' | 'failed'
  checks: DestinationCheck[]
}

/**
 * Proves a set restorable, per destination holding it: every copy is re-read and checked
 * against the manifest's sizes and sha256; the copy in `from` (default: the first) is also
 * decrypted, decompressed and listed by pg_restore (`archive`) or restored into a scratch
 * database whose row counts are compared with the manifest (`restore`). The outcome is
 * appended to each copy's manifest; a failure is recorded as such and thrown.
 */
export async function verifySet(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  id: string,
  level: VerifyLevel,
  from?: string,
): Promise<VerifyOutcome> {
  const listed = await allSets(ctx)
  // Copies whose manifest is believable are checked, even with objects missing: the checks
  // fail on them and the failure is recorded.
  const copies = [...listed.sets, ...listed.damaged.filter((d) => d.manifestTrusted)].filter(
    (s) => s.manifest.id === id,
  )
  const first = copies.find((s) => !from || s.storage.name === from)
  if (!first) {
    throwIfUntrusted(
      {
        damaged: listed.damaged.filter((d) => !from || d.storage.name === from),
        unreadable: listed.unreadable.filter((u) => !from || u.storage === from),
      },
      id,
    )
    throw new DbopsError(
      'BACKUP_NOT_FOUND',
      `there is no backup with id ${id}${from ? ` in ${from}` : ''}`,
      { hint: 'List the backups with `dbops backups list`.' },
    )
  }
  // A copy whose manifest is not believable fails the verification as it is; it is not read, nor written to.
  const checks: DestinationCheck[] = listed.damaged
    .filter((d) => !d.manifestTrusted && d.prefix.split('/')[1] === id)
    .map((d) => ({
      storage: d.storage.name,
      method: 'checksum',
      status: 'failed',
      detail: `damaged: ${d.problems.join('; ')}`,
    }))
  for (const copy of copies) {
    ctx.signal.throwIfAborted()
    const deep = copy === first && level !== 'checksum'
    let check: DestinationCheck
    try {
      const detail = deep
        ? level === 'archive'
          ? await archiveCheck(ctx, options, configDir, copy)
          : await restoreCheck(ctx, options, configDir, copy)
        : await checksumCheck(copy, ctx.signal)
      check = {
        storage: copy.storage.name,
        method: deep ? (level === 'archive' ? 'archive-list' : 'restore') : 'checksum',
        status: 'verified',
        detail,
      }
    } catch (error) {
      if (ctx.signal.aborted) throw error
      check = {
        storage: copy.storage.name,
        method: deep ? (level === 'archive' ? 'archive-list' : 'restore') : 'checksum',
        status: 'failed',
        detail: messageOf(error),
      }
      // A missing key says nothing about the backup: report it, record nothing.
      if (
        (error instanceof DbopsError && error.code.startsWith('AGE_IDENTITY')) ||
        (error instanceof DbopsError && error.code.startsWith('PG'))
      )
        throw error
    }
    checks.push(check)
    await record(
      copy.storage,
      copy.prefix,
      {
        status: check.status,
        at: new Date().toISOString(),
        method: check.method,
        detail: check.detail,
      },
      ctx.signal,
    ).catch((error) => {
      ctx.logger.warn(
        `could not record the verification in ${copy.storage.name}: ${messageOf(error)}`,
      )
    })
  }
  const status = checks.every((c) => c.status === 'verified') ? 'verified' : 'failed'
  const outcome: VerifyOutcome = { id, database: first.manifest.database, level, status, checks }
  if (status === 'failed') {
    const bad = checks.filter((c) => c.status === 'failed')
    throw Object.assign(
      new DbopsError(
        'VERIFY_FAILED',
        `backup ${id} of ${first.manifest.database} failed verification on ${bad.map((c) => `${c.storage} (${c.method}): ${c.detail}`).join('; ')}`,
        {
          hint: 'Do not rely on this set; restore from another destination or an earlier verified set, and look into the storage.',
        },
      ),
      { outcome },
    )
  }
  return outcome
}

async function record(
  storage: Storage,
  prefix: string,
  entry: BackupManifest['verification'][number],
  signal: AbortSignal,
): Promise<void> {
  const manifest = await readManifest(storage, prefix)
  manifest.verification.push(entry)
  await writeManifest(storage, prefix, manifest, signal)
}
