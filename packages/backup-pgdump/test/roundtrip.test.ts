import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
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
import { createTestDatabase, TEST_PASSWORD } from '@dbops/test-utils'

const db = await seededDatabase('pgdump_roundtrip')
const work = await makeWorkdir()
const key = ageKey(work.dir)
await work.write(
  'dbops.config.ts',
  configFile(
    `{ encryption: { recipients: [${JSON.stringify(key.recipient)}] }, verify: { level: 'archive' } }`,
  ),
)
// The password-protected role: every output below is checked for its password.
const env = { DATABASE_URL: db.passwordUrl }
const withKey = { ...env, DBOPS_AGE_IDENTITY_FILE: key.file }
let id = ''

test('dbops run backup: dump, verify (archive), retention — one encrypted, compressed set', async () => {
  const r = await runCli(['run', 'backup', '--json', '--tag', 'daily'], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const report = json(r.stdout)
  assert.is(report.status, 'success')
  const dumped = report.steps.find((s: any) => s.id === 'pgdump:dump').result
  assert.is(dumped.sets.length, 1)
  id = dumped.sets[0].id
  const files = filesUnder(path.join(work.dir, 'backups'))
  assert.equal(files, [`${db.name}/${id}/dump.pgdump.zst.age`, `${db.name}/${id}/manifest.json`])
  const manifest = JSON.parse(
    readFileSync(path.join(work.dir, 'backups', db.name, id, 'manifest.json'), 'utf8'),
  )
  assert.is(manifest.format, 'custom')
  assert.equal(manifest.compression, { algorithm: 'zstd', level: 3 })
  assert.equal(manifest.encryption, { type: 'age', recipients: [key.recipient] })
  assert.equal(manifest.tags, ['daily'])
  assert.is(manifest.serverVersion.split('.')[0], manifest.pgDumpVersion.split('.')[0])
  const items = manifest.tables.find((t: any) => t.schema === 'app' && t.name === 'items')
  assert.equal(items, { schema: 'app', name: 'items', rows: 2000, exact: true })
  assert.is(manifest.verification.at(-1).status, 'verified')
  assert.is(manifest.verification.at(-1).method, 'archive-list')
  for (const text of [r.stdout, r.stderr, JSON.stringify(manifest)]) {
    assert.not.ok(text.includes(TEST_PASSWORD), 'the password leaked')
    assert.not.ok(text.includes(key.identity), 'the identity leaked')
  }
})

test('the standard age CLI decrypts the backup without dbops, and pg_restore reads it', () => {
  const object = path.join(work.dir, 'backups', db.name, id, 'dump.pgdump.zst.age')
  const plain = execFileSync(
    'sh',
    ['-c', `age -d -i "${key.file}" "${object}" | zstd -d -c | pg_restore --list`],
    { encoding: 'utf8' },
  )
  assert.match(plain, /TABLE DATA app items/)
  assert.match(plain, /TABLE DATA public events/)
})

test('backups list --json shows the set, its size, destination and verification', async () => {
  const r = await runCli(['backups', 'list', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr)
  const out = json(r.stdout)
  assert.is(out.backups.length, 1)
  assert.is(out.backups[0].id, id)
  assert.is(out.backups[0].destination, 'local')
  assert.is(out.backups[0].verified, true)
  assert.ok(out.backups[0].size > 1000)
  assert.not.ok(r.stdout.includes(TEST_PASSWORD))
})

for (const level of ['checksum', 'archive', 'restore'] as const) {
  test(`backups verify <id> --level ${level} passes and is recorded`, async () => {
    const r = await runCli(['backups', 'verify', id, '--level', level, '--json'], {
      cwd: work.dir,
      env: withKey,
    })
    assert.is(r.code, 0, r.stderr + r.stdout)
    const out = json(r.stdout)
    assert.is(out.status, 'verified')
    assert.is(
      out.checks[0].method,
      { checksum: 'checksum', archive: 'archive-list', restore: 'restore' }[level],
    )
    if (level === 'restore') assert.match(out.checks[0].detail, /3 tables, row counts match/)
    const manifest = JSON.parse(
      readFileSync(path.join(work.dir, 'backups', db.name, id, 'manifest.json'), 'utf8'),
    )
    assert.is(manifest.verification.at(-1).method, out.checks[0].method)
    // this suite's scratch database is gone (other suites may be verifying at the same time)
    const left = await db.query(`select datname from pg_database where starts_with(datname, $1)`, [
      `dbops_verify_${db.name.slice(0, 30)}_`,
    ])
    assert.equal(left.rows, [], 'the scratch database was left behind')
    assert.not.ok((r.stdout + r.stderr).includes(TEST_PASSWORD))
  })
}

test('backups restore latest into a new database: identical row counts', async () => {
  const target = `${db.name}_restored`
  const r = await runCli(
    ['backups', 'restore', 'latest', '--target-db', target, '--create', '--json'],
    { cwd: work.dir, env: withKey },
  )
  assert.is(r.code, 0, r.stderr + r.stdout)
  const out = json(r.stdout)
  assert.is(out.rowCounts, 'match')
  assert.is(out.created, true)
  const restored = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${target}`) })
  await restored.connect()
  try {
    assert.equal(await rowCounts(restored), await rowCounts(db))
  } finally {
    await restored.end()
  }
  // a second restore into the now non-empty database is refused, and nothing changes
  const again = await runCli(['backups', 'restore', id, '--target-db', target], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(again.code, 2, again.stderr)
  assert.match(again.stderr, /is not empty/)
  assert.match(again.stderr, /--clean/)
  // with --clean it goes through
  const clean = await runCli(
    ['backups', 'restore', id, '--target-db', target, '--clean', '--jobs', '2'],
    { cwd: work.dir, env: withKey },
  )
  assert.is(clean.code, 0, clean.stderr)
  assert.match(clean.stdout, /row counts of 3 tables match/)
  await db.query(`drop database "${target}" with (force)`)
})

test('backups restore --to <url> --create: another connection, the database created through its server', async () => {
  const target = `${db.name}_to_url`
  const url = db.url.replace(/\/[^/]+$/, `/${target}`)
  const r = await runCli(['backups', 'restore', id, '--to', url, '--create', '--json'], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const out = json(r.stdout)
  assert.is(out.rowCounts, 'match')
  assert.match(out.target, new RegExp(`/${target}$`))
  await db.query(`drop database "${target}" with (force)`)
  // without --create, a missing target is refused with the flag to add
  const missing = await runCli(['backups', 'restore', id, '--to', url], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(missing.code, 2)
  assert.match(missing.stderr, /does not exist.*\n.*--create/)
})

test('restore refuses the configured primary unless --force names it', async () => {
  const r = await runCli(['backups', 'restore', id, '--target-db', db.name, '--clean'], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(r.code, 2)
  assert.match(r.stderr, /configured primary/)
  assert.match(r.stderr, new RegExp(`--force ${db.name}`))
})

test.after(async () => {
  await work.remove()
  await db.drop()
})

test('a brand-new empty database backs up and verifies (the first deploy: backup, then migrate)', async () => {
  const empty = await createTestDatabase('pgdump_empty')
  try {
    const r = await runCli(['run', 'backup', '--json'], {
      cwd: work.dir,
      env: { ...withKey, DATABASE_URL: empty.passwordUrl },
    })
    assert.is(r.code, 0, r.stderr + r.stdout)
    const report = json(r.stdout)
    assert.is(report.steps.find((s: any) => s.id === 'pgdump:verify').status, 'success')
  } finally {
    await empty.drop()
  }
})

test.run()
