// A backup destination (src/destination.ts) in-process, over a real local directory: what it
// keeps of its uploads, why it fails, and what it removes when the set did not complete there.
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, rmSync, truncateSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { type BackupManifest, localStorage, type Storage } from 'dbops/plugin'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { Destination } from '../src/destination.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'dbops-destination-'))
const signal = new AbortController().signal
const data = Buffer.from('a dump of some size\n'.repeat(1000))
const sent = { size: data.length, sha256: createHash('sha256').update(data).digest('hex') }
const prefix = 'app/20260101T000000Z-0001/'
const object = { name: 'dump.pgdump', role: 'dump' as const, ...sent }

let n = 0
/** A destination over a fresh directory, and that directory. */
function fresh(wrap: (s: Storage) => Storage = (s) => s): { d: Destination; dir: string } {
  const dir = path.join(root, String(++n))
  return { d: new Destination(wrap(localStorage(`local${n}`, dir))), dir }
}

/** Uploads `data` as the set's dump, as the fan-out would. */
async function upload(d: Destination): Promise<void> {
  const up = d.upload(prefix + object.name, 'dump', signal)
  up.stream.end(data)
  d.accept(
    await up.result.then(
      (value) => ({ status: 'fulfilled' as const, value }),
      (reason: unknown) => ({ status: 'rejected' as const, reason }),
    ),
    sent,
  )
}

const manifest = { id: '20260101T000000Z-0001', database: 'app', objects: [object] }

test.after(() => rmSync(root, { recursive: true, force: true }))

test('a whole upload keeps the destination live; confirmed and finished, the set is complete', async () => {
  const { d, dir } = fresh()
  await upload(d)
  assert.ok(d.live, d.failure?.message)
  await d.confirm(prefix, [object])
  await d.finish(prefix, manifest as unknown as BackupManifest, signal)
  assert.ok(d.complete)
  await d.removePartial() // a complete set is left alone
  assert.ok(existsSync(path.join(dir, prefix, object.name)))
  assert.ok(existsSync(path.join(dir, prefix, 'manifest.json')))
})

test('other bytes stored than sent put the destination out, saying both', () => {
  const { d } = fresh()
  d.accept({ status: 'fulfilled', value: { key: 'k', size: 3, sha256: 'abc' } }, sent)
  assert.is(
    d.failure?.message,
    `stored 3 bytes with sha256 abc, sent ${sent.size} bytes with ${sent.sha256}`,
  )
  d.accept({ status: 'rejected', reason: new Error('later') }, sent)
  assert.is(d.failure?.message.startsWith('stored 3 bytes'), true, 'the first failure is kept')
})

test('an object cut short after the upload fails the confirmation; its bytes are removed', async () => {
  const { d, dir } = fresh()
  await upload(d)
  const file = path.join(dir, prefix, object.name)
  truncateSync(file, 10)
  await d.confirm(prefix, [object])
  assert.is(d.failure?.message, `dump.pgdump is 10 bytes, not ${sent.size} after the upload`)
  await d.finish(prefix, manifest as unknown as BackupManifest, signal)
  assert.not.ok(d.complete, 'a failed destination gets no manifest')
  await d.removePartial()
  assert.not.ok(existsSync(file))
  assert.not.ok(existsSync(path.join(dir, prefix, 'manifest.json')))
})

test('a missing object is called missing', async () => {
  const { d } = fresh()
  await d.confirm(prefix, [object])
  assert.is(d.failure?.message, 'dump.pgdump is missing after the upload')
})

test('a storage whose put returns before reading the whole body fails, and its object is removed', async () => {
  const { d, dir } = fresh((inner) => ({
    ...inner,
    put: async (key) => {
      await inner.put(key, Readable.from([Buffer.from('early')]))
      return { key, size: 5, sha256: 'x' }
    },
  }))
  await upload(d)
  assert.is(d.failure?.message, 'its storage returned before reading the whole object (5 bytes)')
  await d.removePartial()
  assert.not.ok(existsSync(path.join(dir, prefix, object.name)))
})

test.run()
