import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'

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

/** Why an upload stopped, so the caller can word it: the S3 call, the source stream, or the caller's signal. */
export class UploadFailure extends Error {
  readonly origin: 's3' | 'source' | 'signal'
  readonly failure: unknown
  readonly uploadId: string | undefined
  /** Set when the multipart upload could not be aborted: its parts stay stored. */
  readonly abortError: unknown

  constructor(
    origin: 's3' | 'source' | 'signal',
    failure: unknown,
    uploadId: string | undefined,
    abortError: unknown,
  ) {
    super('upload failed')
    this.origin = origin
    this.failure = failure
    this.uploadId = uploadId
    this.abortError = abortError
  }
}

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

async function putMultipart(
  request: UploadRequest,
  body: Readable,
  head: Buffer[],
  iterator: AsyncIterator<unknown>,
  hash: ReturnType<typeof createHash>,
  headSize: number,
): Promise<UploadOutcome> {
  let size = headSize
  let failure: { origin: UploadFailure['origin']; error: unknown } | undefined
  let uploadId: string | undefined
  const inflight = new Set<Promise<unknown>>()
  const partAbort = new AbortController()
  const uploadAbort = new AbortController()
  // Creating and completing the upload are let finish after a failure (stopping them could
  // leave an upload nobody knows the id of), but only for so long: a server that stopped
  // answering would otherwise hold the failed upload, and the run, for minutes.
  const lateAbort = new AbortController()
  let lateTimer: NodeJS.Timeout | undefined

  const stop = (origin: UploadFailure['origin'], error: unknown) => {
    failure ??= { origin, error }
    uploadAbort.abort()
    partAbort.abort()
    lateTimer ??= setTimeout(() => lateAbort.abort(), ABORT_DEADLINE_MS)
    if (!body.destroyed) body.destroy()
  }
  const onAbort = () => stop('signal', request.signal?.reason)
  request.signal?.addEventListener('abort', onAbort, { once: true })

  // A client for this upload only: it shares the destination's connections and credentials,
  // but part uploads carry this upload's abort signal, and every request is tracked.
  const inner = request.client.config.requestHandler as unknown as PartHandler
  const client = new S3Client({
    ...request.config,
    credentials: request.client.config.credentials,
    requestHandler: {
      handle: (req, options) =>
        inner.handle(req, {
          ...options,
          abortSignal: req.query?.partNumber !== undefined ? partAbort.signal : lateAbort.signal,
        }),
      updateHttpClientConfig: (key, value) => inner.updateHttpClientConfig?.(key, value),
      httpHandlerConfigs: () => inner.httpHandlerConfigs?.() ?? {},
    } satisfies PartHandler,
  })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (failure) throw Object.assign(new Error('upload stopped'), { name: 'AbortError' })
      const sent = next(args)
      inflight.add(sent)
      try {
        const result = await sent
        if (context.commandName === 'CreateMultipartUploadCommand')
          uploadId = (result.output as { UploadId?: string }).UploadId
        return result
      } catch (error) {
        stop('s3', error)
        throw error
      } finally {
        inflight.delete(sent)
      }
    },
    { step: 'initialize', name: 'dbopsTrackUpload' },
  )

  async function* feed(): AsyncGenerator<Buffer> {
    yield* head.splice(0)
    try {
      for (;;) {
        const next = await iterator.next()
        if (next.done) return
        const chunk = toBuffer(next.value)
        hash.update(chunk)
        size += chunk.length
        yield chunk
      }
    } catch (error) {
      stop(
        request.signal?.aborted ? 'signal' : 'source',
        request.signal?.aborted ? request.signal.reason : error,
      )
      throw error
    }
  }

  const upload = new Upload({
    client,
    params: {
      ...request.params,
      Bucket: request.bucket,
      Key: request.key,
      Body: Readable.from(feed(), { highWaterMark: 1 }),
      ChecksumAlgorithm: 'SHA256',
    },
    partSize: request.partSize,
    queueSize: request.queueSize,
    leavePartsOnError: true,
    abortController: uploadAbort,
  })
  try {
    await upload.done()
  } catch (error) {
    stop('s3', error)
    // Parts still on the wire would survive an abort sent now: let them settle first.
    while (inflight.size > 0) await Promise.allSettled([...inflight])
    await new Promise((resolve) => setImmediate(resolve))
    while (inflight.size > 0) await Promise.allSettled([...inflight])
    clearTimeout(lateTimer)
    const abortError = await abortMultipart(request, uploadId)
    throw new UploadFailure(failure!.origin, failure!.error, uploadId, abortError)
  } finally {
    clearTimeout(lateTimer)
    request.signal?.removeEventListener('abort', onAbort)
  }

  const sha256 = hash.digest('hex')
  // Best effort: the object is complete and S3 verified every part's checksum; the tag lets
  // `head` report the full sha256 too. A policy without s3:PutObjectTagging only loses that.
  await request.client
    .send(
      new PutObjectTaggingCommand({
        Bucket: request.bucket,
        Key: request.key,
        Tagging: { TagSet: [{ Key: SHA256_KEY, Value: sha256 }] },
      }),
      { abortSignal: AbortSignal.timeout(ABORT_DEADLINE_MS) },
    )
    .catch(() => {})
  return { size, sha256, multipart: true }
}

/**
 * How long the clean-up of a failed upload may take. It runs after the caller's signal has
 * fired (Ctrl-C, --timeout), so it cannot take that signal; against a server that went away
 * it would otherwise retry for minutes. Past it, the error names the upload left open.
 */
export const ABORT_DEADLINE_MS = 15_000

/** Aborts the multipart upload; returns the error when that failed (parts stay stored). */
async function abortMultipart(
  request: UploadRequest,
  uploadId: string | undefined,
): Promise<unknown> {
  if (!uploadId) return undefined
  const target = { Bucket: request.bucket, Key: request.key, UploadId: uploadId }
  const deadline = { abortSignal: AbortSignal.timeout(ABORT_DEADLINE_MS) }
  try {
    await request.client.send(new AbortMultipartUploadCommand(target), deadline)
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchUpload') return undefined
    if (!deadline.abortSignal.aborted) return error
    return Object.assign(new Error(`no answer within ${ABORT_DEADLINE_MS / 1000} s`), {
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
      cause: error,
    })
  }
  // S3's advice: a part that was still arriving during the abort can survive it; abort again.
  try {
    const left = await request.client.send(new ListPartsCommand(target), deadline)
    if (left.Parts?.length)
      await request.client.send(new AbortMultipartUploadCommand(target), deadline)
  } catch {
    // NoSuchUpload: nothing left, as it should be.
  }
  return undefined
}

interface PartHandler {
  handle(
    request: { query?: Record<string, unknown> },
    options?: { abortSignal?: AbortSignal; requestTimeout?: number },
  ): Promise<unknown>
  updateHttpClientConfig?(key: never, value: never): void
  httpHandlerConfigs?(): Record<string, unknown>
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk
  if (typeof chunk === 'string') return Buffer.from(chunk)
  if (chunk instanceof Uint8Array)
    return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  throw new TypeError(`put() needs a byte stream; got a chunk of type ${typeof chunk}`)
}
