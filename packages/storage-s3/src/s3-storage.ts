import { addAbortSignal, type Readable } from 'node:stream'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3'
import {
  DbopsError,
  isAbortError,
  measuringStream,
  type ObjectInfo,
  type PutOptions,
  type PutResult,
  type Storage,
} from 'dbops/plugin'
import { clientConfig, createClient, secretsOf } from './client.ts'
import { s3Error, type S3Call } from './errors.ts'
import { s3Location } from './location.ts'
import type { S3Options } from './options.ts'
import { streamUpload } from './upload.ts'
import { uploadError } from './upload-failure.ts'
import { SHA256_KEY } from './upload-request.ts'

const MiB = 1024 * 1024

/** `listPageSize` exists for tests of paging; S3's own maximum (1000) is the default. */
export function createS3Storage(
  options: S3Options,
  name: string,
  tuning: { listPageSize?: number } = {},
): Storage {
  const config = clientConfig(options)
  const client = createClient(options)
  const { bucket, prefix } = options
  const region = typeof config.region === 'string' ? config.region : undefined
  const location = s3Location(options)
  const call = (action: string, key?: string): S3Call => ({
    action,
    bucket,
    key,
    endpoint: options.endpoint,
    region,
    storage: name,
    secrets: secretsOf(options),
  })
  const fullKey = (key: string) => {
    if (key === '' || key.startsWith('/') || key.split('/').includes('..')) {
      throw new DbopsError(
        'STORAGE_KEY_INVALID',
        `storage key "${key}" is not a relative key under ${location}`,
      )
    }
    return prefix + key
  }
  const taggedSha256 = async (k: string) => {
    const tags = await client
      .send(new GetObjectTaggingCommand({ Bucket: bucket, Key: k }))
      .catch(() => undefined)
    return tags?.TagSet?.find((t) => t.Key === SHA256_KEY)?.Value
  }
  let bucketSeen = false
  /** HEAD answers a missing bucket like a missing key (a bare 404); tell them apart once. */
  const ensureBucket = async (action: string, key: string) => {
    if (bucketSeen) return
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }))
      bucketSeen = true
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
      throw s3Error(
        e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404
          ? Object.assign(error as object, { name: 'NoSuchBucket', Code: 'NoSuchBucket' })
          : error,
        call(action, key),
      )
    }
  }

  return {
    name,
    type: 's3',
    location,

    async put(key: string, body: Readable, put: PutOptions = {}): Promise<PutResult> {
      const k = fullKey(key)
      try {
        const out = await streamUpload(
          {
            client,
            config,
            bucket,
            key: k,
            partSize: options.partSizeMb * MiB,
            queueSize: options.queueSize,
            params: {
              ContentType: put.contentType ?? 'application/octet-stream',
              ...(put.metadata ? { Metadata: put.metadata } : {}),
              ...(options.storageClass ? { StorageClass: options.storageClass } : {}),
              ...(options.serverSideEncryption
                ? { ServerSideEncryption: options.serverSideEncryption }
                : {}),
              ...(options.kmsKeyId ? { SSEKMSKeyId: options.kmsKeyId } : {}),
            },
            signal: put.signal,
          },
          body,
        )
        bucketSeen = true
        return { key, size: out.size, sha256: out.sha256 }
      } catch (error) {
        throw uploadError(error, call('upload', k))
      }
    },

    async get(key: string, get: { signal?: AbortSignal } = {}): Promise<Readable> {
      const k = fullKey(key)
      let response: GetObjectCommandOutput
      try {
        response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: k }), {
          abortSignal: get.signal,
        })
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey')
          throw new DbopsError('STORAGE_NOT_FOUND', `no object "${key}" in ${location}`)
        throw s3Error(error, call('download', k))
      }
      // A multipart object's sha256 is in its tag; without s3:GetObjectTagging only the size is checked.
      const sha256 = response.Metadata?.[SHA256_KEY] ?? (await taggedSha256(k))
      const verified = verifying(response.Body as Readable, {
        key,
        location,
        size: response.ContentLength,
        sha256,
      })
      return get.signal ? addAbortSignal(get.signal, verified) : verified
    },

    async head(key: string): Promise<ObjectInfo | null> {
      const k = fullKey(key)
      let response: HeadObjectCommandOutput
      try {
        response = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: k }))
      } catch (error) {
        const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
        if (
          e.name === 'NotFound' ||
          e.name === 'NoSuchKey' ||
          e.$metadata?.httpStatusCode === 404
        ) {
          await ensureBucket('look up', k)
          return null
        }
        throw s3Error(error, call('look up', k))
      }
      bucketSeen = true
      const { [SHA256_KEY]: stored, ...metadata } = response.Metadata ?? {}
      // Multipart objects carry their full sha256 as a tag (metadata is fixed before the first byte).
      const sha256 = stored ?? (await taggedSha256(k))
      return {
        key,
        size: response.ContentLength ?? 0,
        modifiedAt: response.LastModified ?? new Date(0),
        ...(sha256 ? { sha256 } : {}),
        metadata,
      }
    },

    async list(listPrefix: string): Promise<ObjectInfo[]> {
      const out: ObjectInfo[] = []
      let token: string | undefined
      try {
        do {
          const page = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix + listPrefix,
              ContinuationToken: token,
              MaxKeys: tuning.listPageSize,
            }),
          )
          for (const item of page.Contents ?? []) {
            if (!item.Key) continue
            out.push({
              key: item.Key.slice(prefix.length),
              size: item.Size ?? 0,
              modifiedAt: item.LastModified ?? new Date(0),
            })
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined
        } while (token)
      } catch (error) {
        throw s3Error(error, call('list', prefix + listPrefix))
      }
      bucketSeen = true
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    },

    async delete(key: string): Promise<void> {
      const k = fullKey(key)
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: k }))
      } catch (error) {
        throw s3Error(error, call('delete', k))
      }
    },

    close() {
      client.destroy()
    },
  }
}

/**
 * The object's bytes as they arrive; at the end, the byte count and (when the object carries
 * one) the sha256 are compared, and a mismatch fails the stream instead of ending it.
 */
function verifying(
  body: Readable,
  expected: { key: string; location: string; size: number | undefined; sha256: string | undefined },
): Readable {
  const check = measuringStream(({ size, sha256: actual }) => {
    if (expected.size !== undefined && size !== expected.size) {
      return new DbopsError(
        'STORAGE_TRUNCATED',
        `the object "${expected.key}" in ${expected.location} ended after ${size} of ${expected.size} bytes`,
        { hint: 'Run again; if it persists, the stored object is damaged.' },
      )
    }
    if (expected.sha256 && actual !== expected.sha256) {
      return new DbopsError(
        'STORAGE_CHECKSUM_MISMATCH',
        `the object "${expected.key}" in ${expected.location} does not match its stored sha256 (${expected.sha256.slice(0, 12)}…, read ${actual.slice(0, 12)}…)`,
        { hint: 'The stored object is damaged; restore from another backup set or destination.' },
      )
    }
    return undefined
  })
  // A connection lost mid-object fails the stream with a sentence; stopping the reader stops the download.
  body.on('error', (error) => {
    if (check.destroyed) return
    if (isAbortError(error)) return void check.destroy(error)
    const of = expected.size !== undefined ? ` of ${expected.size}` : ''
    check.destroy(
      new DbopsError(
        'STORAGE_S3_READ_FAILED',
        `reading "${expected.key}" from ${expected.location} failed after ${check.result().size}${of} bytes: ${(error as Error).message || (error as { code?: string }).code}`,
        {
          hint: 'Run again; if it keeps failing, check the network to the endpoint.',
          cause: error,
        },
      ),
    )
  })
  check.on('close', () => {
    if (!body.destroyed) body.destroy()
  })
  body.pipe(check)
  return check
}
