// Sets whose manifests cannot be trusted (issue 12, 5b and 5g): a set dated 2030 or
// "not a date" is never `latest`, a set with a deleted object lists as damaged, and an
// invalid-JSON manifest is named as unreadable instead of "there is no backup with id".
import { cp, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { configFile, json, makeWorkdir, runCli, seededDatabase } from './helpers.ts'

const db = await seededDatabase('pgdump_damaged', { items: 200, events: 1000 })
const work = await makeWorkdir()
await work.write(
  'dbops.config.ts',
  configFile(`{ verify: { level: 'checksum' } }`, {
    pipelines: `{ dump: ['pgdump:dump'], drill: ['pgdump:verify'] }`,
  }),
)
const env = { DATABASE_URL: db.url }
const setsDir = path.join(work.dir, 'backups', db.name)
let older = ''
let newest = ''

/** A copy of a real set under another id, with its manifest edited. */
async function copySet(from: string, id: string, edit: (m: any) => void): Promise<void> {
  await cp(path.join(setsDir, from), path.join(setsDir, id), { recursive: true })
  const file = path.join(setsDir, id, 'manifest.json')
  const manifest = JSON.parse(await readFile(file, 'utf8'))
  manifest.id = id
  edit(manifest)
  await writeFile(file, JSON.stringify(manifest, null, 2))
}

test.after(async () => {
  await work.remove()
  await db.drop()
})

test('setup: two real sets, and beside them a 2030 one, a "not a date" one, one missing its dump, one with invalid JSON', async () => {
  for (let i = 0; i < 2; i++) {
    const r = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env })
    assert.is(r.code, 0, r.stderr + r.stdout)
    const id = json(r.stdout).steps[0].result.sets[0].id
    if (i === 0) older = id
    else newest = id
  }
  await copySet(newest, '20300101T000000Z-f000', (m) => {
    m.startedAt = '2030-01-01T00:00:00.000Z'
    m.finishedAt = '2030-01-01T00:01:00.000Z'
  })
  await copySet(newest, 'not-a-date', (m) => (m.startedAt = 'not a date'))
  await copySet(older, 'missing-dump', () => {})
  const missing = path.join(setsDir, 'missing-dump')
  const dumpName = JSON.parse(await readFile(path.join(missing, 'manifest.json'), 'utf8'))
    .objects[0].name
  await rm(path.join(missing, dumpName))
  await cp(path.join(setsDir, older), path.join(setsDir, 'bad-json'), { recursive: true })
  await writeFile(
    path.join(setsDir, 'bad-json', 'manifest.json'),
    '{"manifestVersion": 1, "id": "bad-json",',
  )
})

test('verify latest, the verify task with no dump in the run, and restore latest all pick the real newest set', async () => {
  const verify = await runCli(['backups', 'verify', 'latest', '--level', 'checksum', '--json'], {
    cwd: work.dir,
    env,
  })
  assert.is(verify.code, 0, verify.stderr + verify.stdout)
  assert.is(json(verify.stdout).id, newest)

  const drill = await runCli(['run', 'drill', '--json'], { cwd: work.dir, env })
  assert.is(drill.code, 0, drill.stderr + drill.stdout)
  assert.equal(
    json(drill.stdout).steps[0].result.map((o: any) => o.id),
    [newest],
  )

  const target = `${db.name}_latest`
  try {
    const restore = await runCli(
      ['backups', 'restore', 'latest', '--target-db', target, '--create', '--json'],
      { cwd: work.dir, env },
    )
    assert.is(restore.code, 0, restore.stderr + restore.stdout)
    assert.is(json(restore.stdout).id, newest)
  } finally {
    await db.query(`drop database if exists "${target}" with (force)`)
  }
})

test('backups list shows the untrusted sets as damaged, with why, apart from the backups', async () => {
  const r = await runCli(['backups', 'list', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr)
  const out = json(r.stdout)
  assert.equal(
    out.backups.map((b: any) => b.id),
    [newest, older],
  )
  const damaged = Object.fromEntries(out.damaged.map((d: any) => [d.id, d.problems.join('; ')]))
  assert.equal(Object.keys(damaged).sort(), [
    '20300101T000000Z-f000',
    'bad-json',
    'missing-dump',
    'not-a-date',
  ])
  assert.match(
    damaged['20300101T000000Z-f000'],
    /startedAt 2030-01-01T00:00:00.000Z is in the future/,
  )
  assert.match(damaged['not-a-date'], /startedAt "not a date" is not an ISO 8601 date-time/)
  assert.match(damaged['missing-dump'], /dump\.pgdump\.zst is missing/)
  assert.match(
    damaged['bad-json'],
    /the manifest is unreadable: .*manifest\.json is not valid JSON/,
  )

  const text = await runCli(['backups', 'list'], { cwd: work.dir, env })
  assert.is(text.code, 0, text.stderr)
  const row = (id: string) => text.stdout.split('\n').find((l) => l.startsWith(id)) ?? ''
  assert.match(row(newest), /local/)
  assert.not.match(row(newest), /DAMAGED/)
  for (const id of ['20300101T000000Z-f000', 'not-a-date', 'missing-dump', 'bad-json'])
    assert.match(row(id), /DAMAGED/, `${id}:\n${text.stdout}`)
  assert.match(text.stdout, /4 damaged set\(s\)/)
  assert.match(text.stdout, /local:.*missing-dump\/: dump\.pgdump\.zst is missing/)
})

test('verify of a damaged set says what is wrong with it; an invalid-JSON manifest is named unreadable, not missing', async () => {
  // Its manifest is believable: the check runs, fails on the missing object, and says so.
  const missing = await runCli(['backups', 'verify', 'missing-dump', '--level', 'checksum'], {
    cwd: work.dir,
    env,
  })
  assert.is(missing.code, 1, missing.stderr)
  assert.match(
    missing.stderr,
    /backup missing-dump of pgdump_damaged\S* failed verification on local \(checksum\): local:\S+\/missing-dump\/dump\.pgdump\.zst could not be read/,
  )
  const recorded = JSON.parse(
    await readFile(path.join(setsDir, 'missing-dump', 'manifest.json'), 'utf8'),
  )
  assert.is(recorded.verification.at(-1).status, 'failed')

  const badJson = await runCli(['backups', 'verify', 'bad-json', '--level', 'checksum'], {
    cwd: work.dir,
    env,
  })
  assert.is(badJson.code, 1, badJson.stderr)
  assert.not.match(badJson.stderr, /there is no backup/)
  assert.match(
    badJson.stderr,
    /the manifest of backup bad-json in local is unreadable: .*manifest\.json is not valid JSON \(/,
  )

  // An untrustworthy manifest is neither read nor written to.
  const futureManifest = path.join(setsDir, '20300101T000000Z-f000', 'manifest.json')
  const before = await readFile(futureManifest, 'utf8')
  const future = await runCli(
    ['backups', 'verify', '20300101T000000Z-f000', '--level', 'checksum'],
    { cwd: work.dir, env },
  )
  assert.is(future.code, 1, future.stderr)
  assert.match(
    future.stderr,
    /backup 20300101T000000Z-f000 of \S+ in local is damaged: startedAt 2030-01-01T00:00:00.000Z is in the future/,
  )
  const restore = await runCli(
    ['backups', 'restore', '20300101T000000Z-f000', '--target-db', `${db.name}_future`, '--create'],
    { cwd: work.dir, env },
  )
  assert.is(restore.code, 1, restore.stderr)
  assert.match(restore.stderr, /is damaged: startedAt 2030/)
  assert.is(
    (await db.query('select 1 from pg_database where datname = $1', [`${db.name}_future`]))
      .rowCount,
    0,
    'the target was created',
  )
  assert.is(await readFile(futureManifest, 'utf8'), before)

  const none = await runCli(['backups', 'verify', 'no-such-id', '--level', 'checksum'], {
    cwd: work.dir,
    env,
  })
  assert.is(none.code, 1, none.stderr)
  assert.match(none.stderr, /there is no backup with id no-such-id/)
})

test.run()
