import { createHash } from 'node:crypto'
import { Transform } from 'node:stream'

/** What went through a {@link measuringStream}: its byte count and sha256 (hex). */
export interface Measured {
  size: number
  sha256: string
}

export type MeasuringStream = Transform & { result(): Measured }

/**
 * A pass-through that counts the bytes and hashes them with sha256 on the way, for what a
 * manifest records and what a read checks against it. `check`, when given, runs once at the
 * end; the error it returns fails the stream, so nothing downstream can complete on bad bytes.
 */
export function measuringStream(
  check?: (measured: Measured) => Error | undefined,
): MeasuringStream {
  const hash = createHash('sha256')
  let size = 0
  let digest: string | undefined
  // Asked before the end (an error message's byte count), the hash so far, from a copy.
  const result = (): Measured => ({ size, sha256: digest ?? hash.copy().digest('hex') })
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    },
    flush(done) {
      digest = hash.digest('hex')
      done(check?.(result()) ?? null)
    },
  })
  return Object.assign(stream, { result })
}
