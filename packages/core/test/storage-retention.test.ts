import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { createHash } from 'node:crypto'
import {
  decideRetention,
  localStorage,
  listBackupSets,
  type BackupManifest,
} from '../src/plugin-kit.ts'
import { retentionSchema } from '../src/config/schema.ts'

const day = 86_400_000
const now = new Date('2026-11-25T12:00:00Z')
const sets = (ages: number[], verified: number[] = []) =>
  ages.map((age, i) => ({
    id: `s${i}`,
    startedAt: new Date(now.getTime() - age * day).toISOString(),
    verified: verified.includes(i),
  }))
const policy = (p: Record<string, unknown>) => retentionSchema.parse(p)

test('retention: a table of policies and what they keep', () => {
  const cases: {
    name: string
    ages: number[]
    verified?: number[]
    policy: Record<string, unknown>
    keep: string[]
  }[] = [
    {
      name: 'max age deletes old sets',
      ages: [1, 10, 40, 50],
      policy: { maxAgeDays: 30, minKeep: 0 },
      keep: ['s0', 's1'],
    },
    {
      name: 'minKeep keeps the newest even when all are old',
      ages: [40, 50, 60, 70],
      policy: { maxAgeDays: 30, minKeep: 2 },
      keep: ['s0', 's1'],
    },
    {
      name: 'keepLast keeps N newest regardless of age',
      ages: [40, 50, 60],
      policy: { maxAgeDays: 30, keepLast: 2, minKeep: 0 },
      keep: ['s0', 's1'],
    },
    {
      name: 'the newest verified set is never deleted, and counts toward minKeep',
      ages: [40, 50, 60],
      verified: [2],
      policy: { maxAgeDays: 30, minKeep: 1 },
      keep: ['s2'],
    },
    {
      name: 'minKeep fills up with the newest sets',
      ages: [40, 50, 60],
      verified: [2],
      policy: { maxAgeDays: 30, minKeep: 2 },
      keep: ['s0', 's2'],
    },
    {
      name: 'gfs weekly keeps one per week',
      ages: [40, 41, 47, 48, 60],
      policy: { maxAgeDays: 30, minKeep: 0, gfs: { weekly: 2 } },
      keep: ['s0', 's2'],
    },
    {
      name: 'gfs monthly keeps the newest of each month',
      ages: [31, 32, 62, 100],
      policy: { maxAgeDays: 1, minKeep: 0, gfs: { monthly: 3 } },
      keep: ['s0', 's2', 's3'],
    },
    {
      name: 'maxAgeDays 0 keeps everything',
      ages: [400, 500],
      policy: { maxAgeDays: 0, minKeep: 0 },
      keep: ['s0', 's1'],
    },
    { name: 'nothing to decide', ages: [], policy: {}, keep: [] },
  ]
  for (const c of cases) {
    const decision = decideRetention(sets(c.ages, c.verified), policy(c.policy), now)
    assert.equal(decision.keep.map((s) => s.id).sort(), c.keep.sort(), c.name)
    assert.is(decision.keep.length + decision.delete.length, c.ages.length, c.name)
    for (const s of sets(c.ages)) assert.ok(decision.why[s.id], `${c.name}: every set has a reason`)
  }
})

test('retention: a per-destination override replaces the base policy', () => {
  const base = policy({ maxAgeDays: 30, minKeep: 0, destinations: { offsite: { maxAgeDays: 90 } } })
  assert.is(base.destinations?.offsite?.maxAgeDays, 90)
})

let dir: string
test.before.each(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-local-'))
})
test.after.each(async () => rm(dir, { recursive: true, force: true }))

test('local storage: put/get/head/list/delete, sha256 and size, files 0600', async () => {
  const storage = localStorage('local', dir)
  const body = Buffer.from('hello backup '.repeat(1000))
  const put = await storage.put('db/set1/dump.bin', Readable.from([body]))
  assert.is(put.size, body.length)
  assert.is(put.sha256, createHash('sha256').update(body).digest('hex'))
  assert.is((await stat(path.join(dir, 'db/set1/dump.bin'))).mode & 0o777, 0o600)
  assert.is(await text(await storage.get('db/set1/dump.bin')), body.toString())
  assert.is((await storage.head('db/set1/dump.bin'))?.size, body.length)
  assert.is(await storage.head('db/set1/missing'), null)
  assert.equal(
    (await storage.list('db/')).map((o) => o.key),
    ['db/set1/dump.bin'],
  )
  await storage.delete('db/set1/dump.bin')
  assert.equal(await readdir(dir), [], 'empty folders are removed')
})

test('local storage: a failed or aborted write leaves no object and no temp file', async () => {
  const storage = localStorage('local', dir)
  const failing = new Readable({
    read() {
      this.push(Buffer.alloc(1024))
      this.destroy(new Error('pg_dump died'))
    },
  })
  const error = await storage.put('db/set/dump.bin', failing).catch((e: Error) => e)
  assert.match(String((error as Error).message), /pg_dump died/)
  const controller = new AbortController()
  const endless = new Readable({
    read() {
      setTimeout(() => this.push(Buffer.alloc(1024)), 5)
    },
  })
  setTimeout(() => controller.abort(), 50)
  await storage.put('db/set/other.bin', endless, { signal: controller.signal }).catch(() => {})
  assert.equal(await storage.list(''), [])
  assert.equal(
    await readdir(path.join(dir, 'db/set')).catch(() => []),
    [],
    'no .partial file left (nor the folder the write made)',
  )
})

test('local storage: keys cannot leave the directory', async () => {
  const storage = localStorage('local', dir)
  const error = await storage.put('../escape', Readable.from(['x'])).catch((e: Error) => e)
  assert.match(String((error as Error).message), /leaves the directory/)
})

test('backup sets: only folders with a readable manifest are sets', async () => {
  const storage = localStorage('local', dir)
  const manifest: BackupManifest = {
    manifestVersion: 1,
    id: 'b1',
    database: 'app',
    startedAt: now.toISOString(),
    finishedAt: now.toISOString(),
    serverVersion: '15.18',
    pgDumpVersion: '15.18',
    format: 'custom',
    compression: { algorithm: 'gzip' },
    encryption: null,
    objects: [{ name: 'dump.pgdump.gz', role: 'dump', size: 3, sha256: 'a'.repeat(64) }],
    tables: [],
    tags: ['daily'],
    verification: [],
  }
  await storage.put('app/b1/dump.pgdump.gz', Readable.from(['abc']))
  await storage.put('app/b1/manifest.json', Readable.from([JSON.stringify(manifest)]))
  await storage.put('app/b2/dump.pgdump.gz', Readable.from(['abc'])) // a failed run: no manifest
  await storage.put('app/b3/manifest.json', Readable.from(['{"not":"a manifest"}']))
  const listed = await listBackupSets(storage, 'app')
  assert.equal(
    listed.sets.map((s) => s.manifest.id),
    ['b1'],
  )
  assert.equal(listed.orphans, ['app/b2/'])
  assert.equal(
    listed.unreadable.map((u) => u.prefix),
    ['app/b3/'],
  )
})

test.run()
