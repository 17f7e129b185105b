import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { startS3, TEST_PASSWORD } from '@dbops/test-utils'
import {
  ageKey,
  configFile,
  filesUnder,
  json,
  makeWorkdir,
  rowCounts,
  runCli,
  seededDatabase,
} from './helpers.ts'

const db = await seededDatabase('pgdump_s3')
const s3 = await startS3(['dbops-backups'])
const SECRET = 'not-a-real-secret-key-7Hq2'
const work = await makeWorkdir()
const key = ageKey(work.dir)
const s3Options = (bucket: string) =>
  `s3({ bucket: '${bucket}', prefix: 'pg/', endpoint: '${s3.endpoint}', forcePathStyle: true, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: '${SECRET}', partSizeMb: 5 })`
const config = (bucket: string) =>
  configFile(
    `{ encryption: { recipients: [${JSON.stringify(key.recipient)}] }, verify: { level: 'restore', from: 'offsite' } }`,
    {
      imports: `import { s3 } from '@dbops/storage-s3'`,
      storage: `{ local: { dir: './backups' }, offsite: ${s3Options(bucket)} }`,
    },
  )
await work.write('dbops.config.ts', config('dbops-backups'))
const env = { DATABASE_URL: db.passwordUrl, DBOPS_AGE_IDENTITY_FILE: key.file }
let id = ''

test('one backup run writes the same set to local and S3, verified by a scratch restore from S3', async () => {
  const r = await runCli(['run', 'backup', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const set = json(r.stdout).steps[0].result.sets[0]
  id = set.id
  assert.equal(set.destinations, ['local', 'offsite'])
  const verify = json(r.stdout).steps[1].result[0]
  assert.equal(verify.checks.map((c: any) => [c.storage, c.method, c.status]).sort(), [
    ['local', 'checksum', 'verified'],
    ['offsite', 'restore', 'verified'],
  ])
  for (const text of [r.stdout, r.stderr]) {
    assert.not.ok(text.includes(SECRET), 'the S3 secret leaked')
    assert.not.ok(text.includes(TEST_PASSWORD), 'the database password leaked')
  }
})

test('backups list shows both copies; the S3 copy is byte-identical and age-decryptable outside dbops', async () => {
  const r = await runCli(['backups', 'list', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr)
  const rows = json(r.stdout).backups
  assert.equal(rows.map((b: any) => b.destination).sort(), ['local', 'offsite'])
  assert.ok(rows.every((b: any) => b.id === id && b.verified))
  assert.not.ok(r.stdout.includes(SECRET), 'the S3 secret leaked into backups list')
  assert.match(
    rows.find((b: any) => b.destination === 'offsite').location,
    /^s3:\/\/dbops-backups\/pg\//,
  )
  // the object as S3 holds it (s3rver keeps it as a file), decrypted by the age CLI
  const stored = filesUnder(s3.dir).find(
    (f) => f.includes(`${id}/dump.pgdump.zst.age`) && f.endsWith('._S3rver_object'),
  )
  assert.ok(stored, `no S3 object among ${filesUnder(s3.dir).join(', ')}`)
  const local = readFileSync(path.join(work.dir, 'backups', db.name, id, 'dump.pgdump.zst.age'))
  assert.ok(readFileSync(path.join(s3.dir, stored!)).equals(local))
  const list = execFileSync(
    'sh',
    [
      '-c',
      `age -d -i "${key.file}" "${path.join(s3.dir, stored!)}" | zstd -dc | pg_restore --list`,
    ],
    { encoding: 'utf8' },
  )
  assert.match(list, /TABLE DATA public events/)
  const manifest = filesUnder(s3.dir).find(
    (f) => f.includes(`${id}/manifest.json`) && f.endsWith('._S3rver_object'),
  )!
  const text = readFileSync(path.join(s3.dir, manifest), 'utf8')
  assert.not.ok(
    text.includes(SECRET) || text.includes(TEST_PASSWORD) || text.includes('AGE-SECRET-KEY'),
  )
})

test('restore from S3 into a new database: identical row counts', async () => {
  const target = `${db.name}_from_s3`
  const r = await runCli(
    [
      'backups',
      'restore',
      id,
      '--from',
      'offsite',
      '--target-db',
      target,
      '--create',
      '--jobs',
      '2',
      '--json',
    ],
    { cwd: work.dir, env },
  )
  assert.is(r.code, 0, r.stderr + r.stdout)
  assert.is(json(r.stdout).from, 'offsite')
  assert.is(json(r.stdout).rowCounts, 'match')
  const restored = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${target}`) })
  await restored.connect()
  try {
    assert.equal(await rowCounts(restored), await rowCounts(db))
  } finally {
    await restored.end()
    await db.query(`drop database "${target}" with (force)`)
  }
})

test('a missing bucket: local still gets a complete set, the run exits 1 naming offsite, no retention', async () => {
  const w = await makeWorkdir()
  await w.write('dbops.config.ts', config('no-such-bucket').replace('./backups', './backups2'))
  const r = await runCli(['run', 'backup', '--json'], { cwd: w.dir, env })
  assert.is(r.code, 1, r.stdout)
  const report = json(r.stdout)
  assert.is(report.steps[0].error.code, 'BACKUP_DESTINATION_FAILED')
  assert.match(report.steps[0].error.message, /failed on offsite/)
  assert.match(report.steps[0].error.message, /no-such-bucket|bucket/i)
  assert.match(report.steps[0].error.message, /complete on local/)
  assert.is(report.steps.find((s: any) => s.id === 'retention:apply').status, 'not-run')
  const files = filesUnder(path.join(w.dir, 'backups2'))
  assert.is(files.filter((f) => f.endsWith('manifest.json')).length, 1)
  assert.not.ok(r.stdout.includes(SECRET))
  await w.remove()
})

test('the S3 endpoint unreachable: same outcome, a sentence naming offsite', async () => {
  const w = await makeWorkdir()
  await w.write(
    'dbops.config.ts',
    config('dbops-backups')
      .replace(s3.endpoint, 'http://127.0.0.1:9')
      .replace('./backups', './backups3'),
  )
  const r = await runCli(['run', 'dump', '--json'], { cwd: w.dir, env })
  assert.is(r.code, 1, r.stdout)
  assert.match(json(r.stdout).steps[0].error.message, /failed on offsite/)
  assert.is(
    filesUnder(path.join(w.dir, 'backups3')).filter((f) => f.endsWith('manifest.json')).length,
    1,
  )
  await w.remove()
})

test.after(async () => {
  await work.remove()
  await s3.stop()
  await db.drop()
})
test.run()
