import { createHash } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { measuringStream } from '../src/plugin-kit.ts'

const sink = () => new Writable({ write: (_chunk, _encoding, done) => done() })
const chunks = [Buffer.from('hello '), Buffer.from('world')]

test('measuringStream: counts and hashes what passes through', async () => {
  const measure = measuringStream()
  await pipeline(Readable.from(chunks), measure, sink())
  assert.equal(measure.result(), {
    size: 11,
    sha256: createHash('sha256').update('hello world').digest('hex'),
  })
})

test('measuringStream: the error its check returns fails the stream at the end', async () => {
  const measure = measuringStream(({ size }) =>
    size === 11 ? new Error('eleven bytes') : undefined,
  )
  const failed = await pipeline(Readable.from(chunks), measure, sink()).then(
    () => undefined,
    (error: Error) => error,
  )
  assert.is(failed?.message, 'eleven bytes')
})

test.run()
