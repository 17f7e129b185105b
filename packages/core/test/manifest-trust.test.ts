// Retention and listing read hand-edited manifests without trusting them: object names that
// are paths, dates in the future or not dates at all, missing objects (issue 12, 5b/5g).
// Local storage only: retention never connects to a database.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeWorkdir, runCli } from '@dbops/test-utils'
import {
  decideRetention,
  deleteSet,
  listBackupSets,
  localStorage,
  type BackupManifest,
} from '../src/plugin-kit.ts'
import { retentionSchema } from '../src/config/schema.ts'

const DAY = 86_400_000
const daysAgo = (n: number) => new Date(Date.now() - n * DAY).toISOString()

type Work = Awaited<ReturnType<typeof makeWorkdir>>

/** A set folder `backups/app/<id>/` with a dump of real bytes and a manifest describing it. */
async function writeSet(
  work: Work,
  id: string,
  edit: Partial<BackupManifest> & { dumpBytes?: string } = {},
): Promise<BackupManifest> {
  const dir = path.join(work.dir, 'backups', 'app', id)
  await mkdir(dir, { recursive: true })
  const body = edit.dumpBytes ?? `dump of ${id}`
  await writeFile(path.join(dir, 'dump.bin'), body)
  const { dumpBytes: _drop, ...fields } = edit
  const manifest: BackupManifest = {
    manifestVersion: 1,
    id,
    database: 'app',
    startedAt: daysAgo(1),
    finishedAt: daysAgo(1),
    serverVersion: '15.8',
    pgDumpVersion: '15.8',
    format: 'custom',
    compression: { algorithm: 'none' },
    encryption: null,
    objects: [
      {
        name: 'dump.bin',
        role: 'dump',
        size: Buffer.byteLength(body),
        sha256: createHash('sha256').update(body).digest('hex'),
      },
    ],
    tables: [],
    tags: [],
    verification: [{ status: 'verified', at: daysAgo(1), method: 'checksum' }],
    ...fields,
  }
  if (fields.startedAt && !fields.finishedAt) manifest.finishedAt = fields.startedAt
  if (fields.startedAt && !fields.verification && !Number.isNaN(Date.parse(fields.startedAt)))
    manifest.verification = [{ status: 'verified', at: fields.startedAt, method: 'checksum' }]
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2))
  return manifest
}

const CONFIG = (retention: string) => `import { defineConfig } from 'dbops'
export default defineConfig({
  connection: { url: 'postgres://dbops@127.0.0.1:1/app' },
  storage: { local: { dir: './backups' } },
  retention: ${retention},
  pipelines: { cleanup: ['retention:apply'] },
})
`

const exists = (work: Work, file: string) => existsSync(path.join(work.dir, 'backups', 'app', file))

test("retention: an object name with ../ in a hand-edited manifest never deletes another set's dump", async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': CONFIG(`{ maxAgeDays: 30, keepLast: 1, minKeep: 1 }`),
  })
  try {
    await writeSet(work, 'old', { startedAt: daysAgo(40) })
    await writeSet(work, 'newest', { startedAt: daysAgo(1) })
    // Old enough to be deleted; its "object" is the newest set's dump.
    const evil = await writeSet(work, 'evil', { startedAt: daysAgo(60) })
    evil.objects = [{ ...evil.objects[0]!, name: '../newest/dump.bin' }]
    await writeFile(path.join(work.dir, 'backups/app/evil/manifest.json'), JSON.stringify(evil))

    const r = await runCli(['run', 'cleanup', '--json'], { cwd: work.dir })
    assert.is(r.code, 0, r.stderr + r.stdout)
    assert.ok(exists(work, 'newest/dump.bin'), 'the newest set lost its dump')
    assert.ok(exists(work, 'newest/manifest.json'))
    assert.ok(exists(work, 'evil/manifest.json'), 'the untrusted manifest is left alone')
    assert.not.ok(exists(work, 'old/manifest.json'), 'the old sound set is still deleted')
    const outcome = JSON.parse(r.stdout).steps[0].result[0]
    assert.equal(outcome.deleted, ['old'])
    assert.equal(outcome.leftAlone, ['evil'])
    assert.match(
      outcome.why.evil,
      /left alone: unreadable manifest .*objects\.0\.name: "\.\.\/newest\/dump\.bin" contains a path separator/,
    )
    assert.match(r.stderr, /local:app\/evil\/ is left alone/)
  } finally {
    await work.remove()
  }
})

test('retention: a set dated 2030 or "not a date" is left alone and takes no slot from the real newest verified set', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': CONFIG(`{ maxAgeDays: 1, keepLast: 1, minKeep: 1 }`),
  })
  try {
    await writeSet(work, 'old', { startedAt: daysAgo(40) })
    await writeSet(work, 'real', { startedAt: daysAgo(2) })
    await writeSet(work, 'future', { startedAt: '2030-01-01T00:00:00.000Z' })
    await writeSet(work, 'nodate', { startedAt: 'not a date' })

    const dry = await runCli(['run', 'cleanup', '--dry-run', '--json'], { cwd: work.dir })
    assert.is(dry.code, 0, dry.stderr)
    const plan: string[] = JSON.parse(dry.stdout).steps[0].plan
    assert.ok(
      plan.some((l) => /real: keep: one of the last 1 .*newest verified set/.test(l)),
      plan.join('\n'),
    )
    assert.ok(
      plan.some((l) =>
        /future: left alone: damaged \(startedAt 2030-01-01T00:00:00.000Z is in the future/.test(l),
      ),
      plan.join('\n'),
    )
    assert.ok(
      plan.some((l) =>
        /nodate: left alone: damaged \(startedAt "not a date" is not an ISO 8601 date-time/.test(l),
      ),
      plan.join('\n'),
    )

    const r = await runCli(['run', 'cleanup', '--json'], { cwd: work.dir })
    assert.is(r.code, 0, r.stderr + r.stdout)
    const outcome = JSON.parse(r.stdout).steps[0].result[0]
    assert.equal(outcome.kept, ['real'])
    assert.equal(outcome.deleted, ['old'])
    assert.equal(outcome.leftAlone.sort(), ['future', 'nodate'])
    for (const id of ['real', 'future', 'nodate'])
      assert.ok(exists(work, `${id}/dump.bin`) && exists(work, `${id}/manifest.json`), id)
    assert.not.ok(exists(work, 'old/manifest.json'))
  } finally {
    await work.remove()
  }
})

test('listing: sound sets newest first by time; damaged and unreadable sets apart, each with why', async () => {
  const work = await makeWorkdir()
  try {
    await writeSet(work, 'a', { startedAt: '2026-01-02T00:00:00.000Z' })
    await writeSet(work, 'b', { startedAt: '2026-01-02T00:30:00+01:00' }) // earlier than a, though it sorts later as text
    await writeSet(work, 'future', { startedAt: new Date(Date.now() + 3_600_000).toISOString() })
    await writeSet(work, 'skewed', { startedAt: new Date(Date.now() + 60_000).toISOString() }) // a clock a minute ahead is believable
    await writeSet(work, 'nodate', { startedAt: 'not a date' })
    await writeSet(work, 'missing')
    await writeSet(work, 'resized')
    await writeSet(work, 'elsewhere', { id: 'a' })
    await writeSet(work, 'badjson')
    await rm(path.join(work.dir, 'backups/app/missing/dump.bin'))
    await writeFile(path.join(work.dir, 'backups/app/resized/dump.bin'), 'short')
    await writeFile(
      path.join(work.dir, 'backups/app/badjson/manifest.json'),
      '{"manifestVersion": 1, "id": ',
    )
    const listed = await listBackupSets(
      localStorage('local', path.join(work.dir, 'backups')),
      'app',
    )
    assert.equal(
      listed.sets.map((s) => s.manifest.id),
      ['skewed', 'a', 'b'],
    )
    const damaged = Object.fromEntries(listed.damaged.map((d) => [d.prefix, d.problems.join('; ')]))
    assert.equal(Object.keys(damaged).sort(), [
      'app/elsewhere/',
      'app/future/',
      'app/missing/',
      'app/nodate/',
      'app/resized/',
    ])
    assert.match(damaged['app/future/']!, /startedAt .* is in the future/)
    assert.match(damaged['app/nodate/']!, /startedAt "not a date" is not an ISO 8601 date-time/)
    assert.match(damaged['app/missing/']!, /^dump\.bin is missing$/)
    assert.match(
      damaged['app/resized/']!,
      /^dump\.bin is 5 bytes, the manifest says 15: it is truncated or was replaced$/,
    )
    assert.match(
      damaged['app/elsewhere/']!,
      /the manifest says app\/a but lives in app\/elsewhere\//,
    )
    assert.equal(
      listed.unreadable.map((u) => [u.id, u.prefix]),
      [['badjson', 'app/badjson/']],
    )
    assert.match(listed.unreadable[0]!.error, /app\/badjson\/manifest\.json is not valid JSON \(/)
  } finally {
    await work.remove()
  }
})

test('decideRetention: untrusted dates are left alone, not counted, and every set still has a reason', () => {
  const now = new Date('2026-11-25T12:00:00Z')
  const policy = retentionSchema.parse({ maxAgeDays: 1, keepLast: 1, minKeep: 1 })
  const sets = [
    { id: 'real', startedAt: '2026-11-23T12:00:00Z', verified: true },
    { id: 'older', startedAt: '2026-11-20T12:00:00.000+02:00', verified: true },
    { id: 'future', startedAt: '2030-01-01T00:00:00Z', verified: true },
    { id: 'nodate', startedAt: 'not a date', verified: true },
    { id: 'loose', startedAt: 'November 24, 2026', verified: true },
  ]
  const decision = decideRetention(sets, policy, now)
  assert.equal(
    decision.keep.map((s) => s.id),
    ['real'],
  )
  assert.equal(
    decision.delete.map((s) => s.id),
    ['older'],
  )
  assert.equal(
    decision.leftAlone.map((s) => s.id),
    ['future', 'nodate', 'loose'],
  )
  for (const s of sets) assert.ok(decision.why[s.id], s.id)
})

test('deleteSet refuses a manifest whose object names leave the folder, before deleting anything', async () => {
  const work = await makeWorkdir()
  try {
    const manifest = await writeSet(work, 'x')
    const storage = localStorage('local', path.join(work.dir, 'backups'))
    const bad = {
      ...manifest,
      objects: [manifest.objects[0]!, { ...manifest.objects[0]!, name: '../y/dump.bin' }],
    }
    const error = await deleteSet(storage, { prefix: 'app/x/', manifest: bad }).catch(
      (e: Error) => e,
    )
    assert.match(
      String((error as Error)?.message),
      /refusing to delete local:app\/x\/: its object name "\.\.\/y\/dump\.bin" contains a path separator/,
    )
    assert.ok(exists(work, 'x/manifest.json') && exists(work, 'x/dump.bin'))
  } finally {
    await work.remove()
  }
})

test.run()
