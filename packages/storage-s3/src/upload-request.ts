import type { PutObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3'

/** Metadata/tag key under which the object's full sha256 (hex) is stored. */
export const SHA256_KEY = 'sha256'

export interface UploadRequest {
  client: S3Client
  config: S3ClientConfig
  bucket: string
  key: string
  partSize: number
  queueSize: number
  /** StorageClass, SSE, ContentType, Metadata: passed to PutObject/CreateMultipartUpload. */
  params: Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body'>
  signal?: AbortSignal
}

export interface UploadOutcome {
  size: number
  sha256: string
  multipart: boolean
}

export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  throw new TypeError(`put() needs a byte stream; got a chunk of type ${typeof chunk}`)
}
