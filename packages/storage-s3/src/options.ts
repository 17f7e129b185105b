import { z } from 'zod'

/** The storage classes S3 accepts for objects a backup writes. */
const STORAGE_CLASSES = [
  'STANDARD',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER_IR',
  'GLACIER',
  'DEEP_ARCHIVE',
  'REDUCED_REDUNDANCY',
  'EXPRESS_ONEZONE',
] as const

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/

/**
 * Options of `s3({...})`. Defaults live here and nowhere else. When `bucket` is left out,
 * `BACKUP_S3_BUCKET` fills it (the name the usual backup scripts read).
 */
export const s3OptionsSchema = z
  .strictObject({
    bucket: z.string().optional(),
    /** Key prefix of every object, e.g. `database-backups/`. A trailing `/` is added. */
    prefix: z.string().default(''),
    /** AWS region; left out: AWS_REGION / AWS_DEFAULT_REGION / the profile, else us-east-1. */
    region: z
      .string()
      .regex(/^[a-z0-9-]+$/, 'expected a region name such as eu-west-1')
      .optional(),
    /** An S3-compatible endpoint: MinIO, Cloudflare R2, Ceph RGW, s3rver. */
    endpoint: z
      .url({
        protocol: /^https?$/,
        error: 'expected an http(s) URL such as https://minio.internal:9000',
      })
      .optional(),
    /** Path-style addressing (`endpoint/bucket/key`), which most S3-compatibles need. */
    forcePathStyle: z.boolean().default(false),
    /** Explicit credentials; left out, the standard AWS chain (env, profile, SSO, IMDS/ECS role). */
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    storageClass: z.enum(STORAGE_CLASSES).optional(),
    serverSideEncryption: z.enum(['AES256', 'aws:kms', 'aws:kms:dsse']).optional(),
    /** KMS key id or ARN for `serverSideEncryption: 'aws:kms'`; left out, the account's default key. */
    kmsKeyId: z.string().min(1).optional(),
    /** Multipart part size. Objects can have 10,000 parts, so this caps an object at 10,000 × partSizeMb. */
    partSizeMb: z
      .number()
      .int()
      .min(5, 'S3 parts are at least 5 MB')
      .max(5120, 'S3 parts are at most 5120 MB')
      .default(8),
    /** Parts uploaded at once. Memory held by an upload is about (queueSize + 1) × partSizeMb. */
    queueSize: z.number().int().min(1).max(64).default(4),
  })
  // One transform both checks and fills: every problem is reported at once, and the output
  // type says `bucket: string`, so nothing downstream needs a cast.
  .transform((o, ctx) => {
    const bucket = o.bucket ?? nonEmpty(process.env.BACKUP_S3_BUCKET)
    const problem = (key: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [key], message })
    if (bucket === undefined)
      problem('bucket', 'required: set bucket, or the environment variable BACKUP_S3_BUCKET')
    else if (!BUCKET_NAME.test(bucket) || bucket.includes('..'))
      problem(
        'bucket',
        `'${bucket}' is not a bucket name: 3-63 lowercase letters, digits, dots and hyphens (no s3:// and no path)`,
      )
    if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined))
      problem(
        o.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey',
        'accessKeyId and secretAccessKey go together: set both, or neither to use the standard AWS credential chain',
      )
    if (o.sessionToken !== undefined && o.accessKeyId === undefined)
      problem('sessionToken', 'a sessionToken needs accessKeyId and secretAccessKey')
    if (o.kmsKeyId !== undefined && !o.serverSideEncryption?.startsWith('aws:kms'))
      problem('kmsKeyId', "kmsKeyId needs serverSideEncryption: 'aws:kms'")
    if (bucket === undefined) return z.NEVER
    return { ...o, bucket, prefix: normalizePrefix(o.prefix) }
  })

export type S3OptionsInput = z.input<typeof s3OptionsSchema>
export type S3Options = z.output<typeof s3OptionsSchema>

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim()
}

/** `/backups` and `backups/` both become `backups/`; empty stays empty. */
function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '')
  return trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`
}
