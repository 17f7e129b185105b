import { Transform } from 'node:stream'
import { DbopsError } from 'dbops/plugin'

export interface OutputCheck {
  /** What the output is, for the error sentence: `pg_dump custom archive`. */
  what: string
  /** The bytes at `offset` the output must start with. */
  magic?: { offset: number; bytes: string }
  /** Text the last bytes must contain (plain SQL dumps end with a "complete" comment). */
  trailer?: string
}

/**
 * Fail-closed sanity check of a tool's output as it streams: the header must be what the
 * format promises and, for SQL, the closing comment must be there; an empty or headerless
 * output fails the pipeline before anything is committed.
 */
export function checkOutput(check: OutputCheck): Transform {
  const need = check.magic ? check.magic.offset + check.magic.bytes.length : 1
  let head = Buffer.alloc(0)
  let tail = Buffer.alloc(0)
  let headChecked = false
  let total = 0
  const fail = (why: string) =>
    new DbopsError('DUMP_OUTPUT_INVALID', `the ${check.what} failed the sanity check: ${why}`)
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      total += chunk.length
      if (!headChecked) {
        head = Buffer.concat([head, chunk.subarray(0, need)])
        if (head.length >= need) {
          headChecked = true
          if (
            check.magic &&
            head.subarray(check.magic.offset, need).toString('latin1') !== check.magic.bytes
          )
            return done(fail(`it does not start with the ${check.magic.bytes} header`))
        }
      }
      if (check.trailer) tail = Buffer.concat([tail, chunk]).subarray(-512)
      done(null, chunk)
    },
    flush(done) {
      if (total === 0) return done(fail('it is empty'))
      if (!headChecked) return done(fail(`it is only ${total} bytes long`))
      if (check.trailer && !tail.toString('utf8').includes(check.trailer))
        return done(fail(`it does not end with "-- ${check.trailer}" (the dump was cut short)`))
      done()
    },
  })
}

/**
 * The same header check for a stream that is already compressed (pg_dump piped straight
 * into zstd, never through Node): the first compressed MiB is kept and, at the end, its
 * decoded start must carry the format's magic bytes.
 */
export function checkCompressedOutput(
  check: OutputCheck,
  decodeHead: (head: Buffer, bytes: number) => Promise<Buffer>,
): Transform {
  const limit = 1 << 20
  const kept: Buffer[] = []
  let held = 0
  let total = 0
  const fail = (why: string) =>
    new DbopsError('DUMP_OUTPUT_INVALID', `the ${check.what} failed the sanity check: ${why}`)
  return new Transform({
    transform(chunk: Buffer, _e, done) {
      total += chunk.length
      if (held < limit) {
        const part = chunk.subarray(0, limit - held)
        kept.push(Buffer.from(part))
        held += part.length
      }
      done(null, chunk)
    },
    flush(done) {
      if (total === 0) return done(fail('it is empty'))
      const need = check.magic ? check.magic.offset + check.magic.bytes.length : 1
      decodeHead(Buffer.concat(kept), need).then(
        (head) => {
          if (head.length < need) return done(fail(`it decodes to only ${head.length} bytes`))
          if (
            check.magic &&
            head.subarray(check.magic.offset, need).toString('latin1') !== check.magic.bytes
          )
            return done(fail(`it does not start with the ${check.magic.bytes} header`))
          done()
        },
        (error: Error) => done(fail(`its start could not be decoded (${error.message})`)),
      )
    },
  })
}
