import type { Duplex, Readable, Transform } from 'node:stream'
import {
  DbopsError,
  measuringStream,
  type BackupManifest,
  type BackupObject,
  type Storage,
} from 'dbops/plugin'
import { decompressor } from './compression.ts'
import { type AgeEngine, assertIdentityMatches, decryptor, loadIdentity } from './encryption.ts'
import type { PgdumpOptions } from './options.ts'
import { quiet } from './quiet-stream.ts'

/**
 * Fails the stream at its end when the bytes read differ from the manifest's size or
 * sha256, so nothing downstream can complete on a corrupt or truncated object.
 */
export function expectChecksum(object: BackupObject, where: string): Transform {
  return measuringStream(({ size, sha256 }) => {
    if (size !== object.size)
      return new DbopsError(
        'BACKUP_CORRUPT',
        `${where} is ${size} bytes, the manifest says ${object.size}: the object is truncated or was replaced`,
        { hint: 'Restore from another destination or an earlier set.' },
      )
    if (sha256 !== object.sha256)
      return new DbopsError(
        'BACKUP_CORRUPT',
        `${where} does not match its checksum (sha256 ${sha256.slice(0, 12)}…, the manifest says ${object.sha256.slice(0, 12)}…): the object is corrupt`,
        { hint: 'Restore from another destination or an earlier set.' },
      )
    return undefined
  })
}

export interface Decoding {
  keys?: string[]
  /** The identity's file, when it came from one (lets the fast age CLI read it). */
  identityFile?: string
  engine: AgeEngine
  signal?: AbortSignal
}

/** The stages that turn a stored object back into pg_dump's output: checksum, decrypt, decompress. */
export async function openObject(
  storage: Storage,
  prefix: string,
  object: BackupObject,
  manifest: BackupManifest,
  decoding: Decoding,
  options: { decompress?: boolean } = {},
): Promise<{ source: Readable; stages: Duplex[] }> {
  const where = `${storage.name}:${prefix}${object.name}`
  let source: Readable
  try {
    source = await storage.get(prefix + object.name, { signal: decoding.signal })
  } catch (error) {
    throw new DbopsError(
      'BACKUP_OBJECT_MISSING',
      `${where} could not be read: ${(error as Error).message}`,
      { cause: error, hint: 'Restore from another destination or an earlier set.' },
    )
  }
  const stages: Duplex[] = [expectChecksum(object, where)]
  if (manifest.encryption) {
    if (!decoding.keys)
      throw new DbopsError(
        'AGE_IDENTITY_MISSING',
        'this backup is encrypted and no age identity is available to decrypt it',
      )
    stages.push(
      await decryptor(decoding.keys, decoding.engine, decoding.signal, decoding.identityFile),
    )
  }
  if (options.decompress !== false)
    stages.push(await decompressor(manifest.compression.algorithm, decoding.signal))
  return { source: quiet(source), stages: stages.map(quiet) }
}

/** Identity and decoding for a set: fails before reading when the key cannot open it. */
export async function decodingFor(
  manifest: BackupManifest,
  options: PgdumpOptions,
  configDir: string,
  signal: AbortSignal,
): Promise<Decoding & { signal: AbortSignal }> {
  const engine = options.encryption?.engine ?? 'auto'
  if (!manifest.encryption) return { engine, signal }
  const { keys, source, file } = await loadIdentity(options.encryption?.identityFile, configDir)
  await assertIdentityMatches(keys, manifest.encryption.recipients, source)
  return { keys, engine, signal, identityFile: file }
}
