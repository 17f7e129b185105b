import type { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import {
  AbortMultipartUploadCommand,
  ListPartsCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { Upload } from '@aws-sdk/lib-storage'
import { UploadFailure } from './upload-failure.ts'
import { SHA256_KEY, toBuffer, type UploadOutcome, type UploadRequest } from './upload-request.ts'

/**
 * The multipart half of `streamUpload`: lib-storage's `Upload` with every request tracked,
 * so that a failure stops the parts in flight, lets them settle, and aborts the upload.
 */
export async function putMultipart(
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
const ABORT_DEADLINE_MS = 15_000

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
