import { redactUrl } from 'dbops/plugin'
import type { S3Options } from './options.ts'

/** Where a destination stores, for people: `s3://bucket/prefix at endpoint`, no secrets. */
export function s3Location(options: Pick<S3Options, 'bucket' | 'prefix' | 'endpoint'>): string {
  return `s3://${options.bucket}/${options.prefix}${options.endpoint ? ` at ${redactUrl(options.endpoint)}` : ''}`
}
