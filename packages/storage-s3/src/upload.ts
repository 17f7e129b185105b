import { createHash } from 'node:crypto'
import type { Readable } from 'node:stream'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { putMultipart } from './multipart.ts'
import { UploadFailure } from './upload-failure.ts'
import { SHA256_KEY, toBuffer, type UploadOutcome, type UploadRequest } from './upload-request.ts'

/**
 * Streams `body` into one object and returns its size and sha256, hashed on the way.
 *
 * Up to one part is buffered first: a body that ends within it is sent as one PutObject
 * carrying its x-amz-checksum-sha256 (S3 verifies it) and the sha256 in metadata. A longer
 * body goes through lib-storage's `Upload` as a multipart upload, each part with its own
 * SHA256 checksum; on completion the full sha256 is added as an object tag.
 *
 * Any failure (a part, the source stream, the caller's signal) stops every part still in
 * flight, waits for them to settle, then aborts the multipart upload so no parts are left
 * stored. `Upload` itself is told to leave parts alone (`leavePartsOnError`) because its own
 * abort runs in the background after `done()` has already rejected.
 */
export async function streamUpload(request: UploadRequest, body: Readable): Promise<UploadOutcome> {
  const { signal } = request
  signal?.throwIfAborted()
  const hash = createHash('sha256')
  let size = 0
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<unknown>
  const onAbort = () => body.destroy(signal?.reason as Error)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    const head: Buffer[] = []
    let ended = false
    try {
      while (size < request.partSize) {
        const next = await iterator.next()
        if (next.done) {
          ended = true
          break
        }
        const chunk = toBuffer(next.value)
        hash.update(chunk)
        size += chunk.length
        head.push(chunk)
      }
    } catch (error) {
      throw new UploadFailure(
        signal?.aborted ? 'signal' : 'source',
        signal?.aborted ? signal.reason : error,
        undefined,
        undefined,
      )
    }
    if (ended) return await putSingle(request, Buffer.concat(head), hash.digest())
    return await putMultipart(request, body, head, iterator, hash, size)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

async function putSingle(
  request: UploadRequest,
  data: Buffer,
  digest: Buffer,
): Promise<UploadOutcome> {
  const sha256 = digest.toString('hex')
  try {
    await request.client.send(
      new PutObjectCommand({
        ...request.params,
        Bucket: request.bucket,
        Key: request.key,
        Body: data,
        ContentLength: data.length,
        ChecksumAlgorithm: 'SHA256',
        ChecksumSHA256: digest.toString('base64'),
        Metadata: { ...request.params.Metadata, [SHA256_KEY]: sha256 },
      }),
      { abortSignal: request.signal },
    )
  } catch (error) {
    throw new UploadFailure(
      request.signal?.aborted ? 'signal' : 's3',
      request.signal?.aborted ? request.signal.reason : error,
      undefined,
      undefined,
    )
  }
  return { size: data.length, sha256, multipart: false }
}
