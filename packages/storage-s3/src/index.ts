import { defineStorage } from 'dbops/plugin'
import { s3OptionsSchema, type S3Options, type S3OptionsInput } from './options.ts'
import { createS3Storage } from './s3-storage.ts'

const s3Storage = defineStorage({
  type: 's3',
  options: s3OptionsSchema,
  create: (options, name) => createS3Storage(options as S3Options, name),
})

/**
 * An S3 (or S3-compatible) bucket as a backup destination:
 * `storage: { offsite: s3({ bucket: 'acme-backups', prefix: 'db/' }) }`. With no options, the
 * bucket comes from BACKUP_S3_BUCKET and everything else from the AWS environment.
 */
export const s3 = (options: S3OptionsInput = {}) => s3Storage(options)

export default s3
export { createS3Storage } from './s3-storage.ts'
export { s3OptionsSchema, type S3Options, type S3OptionsInput } from './options.ts'
