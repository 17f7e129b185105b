import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DbopsError } from 'dbops/plugin'
import type { FoundSet } from './backup-sets.ts'
import { expectChecksum } from './open-object.ts'

/** Re-reads every object of a copy and checks it against the manifest's size and sha256. */
export async function checksumCheck(set: FoundSet, signal: AbortSignal): Promise<string> {
  let bytes = 0
  for (const object of set.manifest.objects) {
    const where = `${set.storage.name}:${set.prefix}${object.name}`
    const body = await set.storage
      .get(set.prefix + object.name, { signal })
      .catch((error: Error) => {
        throw new DbopsError(
          'BACKUP_OBJECT_MISSING',
          `${where} could not be read: ${error.message}`,
        )
      })
    await pipeline([body, expectChecksum(object, where), discard()], { signal })
    bytes += object.size
  }
  return `${set.manifest.objects.length} objects, ${bytes} bytes match their sha256`
}

export const discard = () => new Writable({ write: (_c, _e, done) => done() })
