import { defineStorage } from 'dbops'
import { s3OptionsSchema, type S3Options } from './options.ts'
import { createS3Storage } from './s3-storage.ts'

/**
 * An S3 (or S3-compatible) bucket as a backup destination:
 * `storage: { offsite: s3({ bucket: 'acme-backups', prefix: 'db/' }) }`.
 */
export const s3 = defineStorage({
  type: 's3',
  options: s3OptionsSchema,
  create: (options, name) => createS3Storage(options as S3Options, name),
})

export default s3
export { createS3Storage } from './s3-storage.ts'
export { s3OptionsSchema, type S3Options, type S3OptionsInput } from './options.ts'
