import { createHash, randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { buffer } from 'node:stream/consumers'
import { s3OptionsSchema, type S3Options, type S3OptionsInput } from '../src/options.ts'
import type { TestS3 } from '@dbops/test-utils'

export const MiB = 1024 * 1024

/** Random bytes: incompressible, like an encrypted dump. */
export const bytes = (n: number) => randomBytes(n)

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** A stream of unknown length (no ContentLength), in 64 KiB chunks, like pg_dump's stdout. */
export function streamOf(data: Buffer, chunk = 64 * 1024): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0; at < data.length; at += chunk) yield data.subarray(at, at + chunk)
    })(),
    { objectMode: false },
  )
}

/** Yields `good` bytes, then fails as a dying pg_dump would. */
export function failingStream(good: number, message = 'pg_dump exited with code 1'): Readable {
  return Readable.from(
    (async function* () {
      const block = randomBytes(64 * 1024)
      for (let sent = 0; sent < good; sent += block.length) {
        yield block
        await new Promise((resolve) => setImmediate(resolve))
      }
      throw new Error(message)
    })(),
    { objectMode: false },
  )
}

/** A stream that yields `good` bytes and then never ends (a hung upstream). */
export function stallingStream(good: number): Readable {
  const block = randomBytes(64 * 1024)
  let sent = 0
  return new Readable({
    read() {
      if (sent >= good) return // no push: stalls until destroyed
      sent += block.length
      this.push(block)
    },
  })
}

export const readAll = (stream: Readable) => buffer(stream)

/** Options for a destination on the test server (or a proxy in front of it). */
export function optionsFor(
  s3: TestS3,
  input: Partial<S3OptionsInput> = {},
  endpoint = s3.endpoint,
): S3Options {
  return s3OptionsSchema.parse({
    bucket: s3.buckets[0],
    endpoint,
    forcePathStyle: true,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    ...input,
  })
}
