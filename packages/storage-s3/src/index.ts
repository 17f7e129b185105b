import { defineStorage, type Storage } from 'dbops/plugin'
import { s3Location } from './location.ts'
import { s3OptionsSchema, type S3OptionsInput } from './options.ts'
import type * as S3StorageModule from './s3-storage.ts'

/**
 * An S3 destination whose AWS SDK (about 100 ms to import) loads at its first call, not when
 * the config is read: `dbops list` or a run that never touches the bucket never loads it.
 */
export function createS3Storage(
  ...args: Parameters<typeof S3StorageModule.createS3Storage>
): Storage {
  const [options, name] = args
  let real: Promise<Storage> | undefined
  const open = () => (real ??= import('./s3-storage.ts').then((m) => m.createS3Storage(...args)))
  return {
    name,
    type: 's3',
    location: s3Location(options),
    put: async (key, body, put) => (await open()).put(key, body, put),
    get: async (key, get) => (await open()).get(key, get),
    head: async (key) => (await open()).head(key),
    list: async (prefix) => (await open()).list(prefix),
    delete: async (key) => (await open()).delete(key),
    // Nothing to close when the SDK never loaded (or failed to: the call that loaded it said why).
    close: async () => (await real?.catch(() => undefined))?.close?.(),
  }
}

const s3Storage = defineStorage({
  type: 's3',
  options: s3OptionsSchema,
  create: (options, name) => createS3Storage(options, name),
})

/**
 * An S3 (or S3-compatible) bucket as a backup destination:
 * `storage: { offsite: s3({ bucket: 'acme-backups', prefix: 'db/' }) }`. With no options, the
 * bucket comes from BACKUP_S3_BUCKET and everything else from the AWS environment.
 */
export const s3 = (options: S3OptionsInput = {}) => s3Storage(options)

export default s3
export { s3OptionsSchema, type S3Options, type S3OptionsInput } from './options.ts'
