import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
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

const db = await seededDatabase('pgdump_formats')
// a second database on the same server
const secondName = `${db.name}_b`
await db.query(`create database "${secondName}"`)
const second = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${secondName}`) })
await second.connect()
await second.query(
  `create table notes (id int primary key, body text); insert into notes select g, repeat('x', g % 50) from generate_series(1, 700) g`,
)
await second.end()
const env = { DATABASE_URL: db.passwordUrl }
const dbUrl = (name: string) => db.url.replace(/\/[^/]+$/, `/${name}`)

async function backupAndRestore(
  options: string,
  expectFiles: RegExp[],
  extraEnv: Record<string, string> = {},
  level = 'restore',
) {
  const work = await makeWorkdir()
  const key = ageKey(work.dir)
  await work.write(
    'dbops.config.ts',
    configFile(options.replace('RECIPIENT', JSON.stringify(key.recipient))),
  )
  const e = { ...env, DBOPS_AGE_IDENTITY_FILE: key.file, ...extraEnv }
  const r = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env: e })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const files = filesUnder(path.join(work.dir, 'backups'))
  for (const re of expectFiles)
    assert.ok(
      files.some((f) => re.test(f)),
      `${re} not among ${files.join(', ')}`,
    )
  const v = await runCli(['backups', 'verify', 'latest', '--level', level, '--json'], {
    cwd: work.dir,
    env: e,
  })
  assert.is(v.code, 0, v.stderr + v.stdout)
  assert.is(json(v.stdout).status, 'verified')
  const target = `${db.name}_r${Math.random().toString(36).slice(2, 6)}`
  const rr = await runCli(
    ['backups', 'restore', 'latest', '--target-db', target, '--create', '--json'],
    { cwd: work.dir, env: e },
  )
  assert.is(rr.code, 0, rr.stderr + rr.stdout)
  assert.is(json(rr.stdout).rowCounts, 'match')
  const restored = new pg.Client({ connectionString: dbUrl(target) })
  await restored.connect()
  try {
    assert.equal(await rowCounts(restored), await rowCounts(db))
  } finally {
    await restored.end()
    await db.query(`drop database "${target}" with (force)`)
  }
  return { work, key }
}

test('directory format with --jobs 2: tar-streamed, zstd, age; restores in parallel', async () => {
  const { work } = await backupAndRestore(
    `{ format: 'directory', jobs: 2, encryption: { recipients: [RECIPIENT] } }`,
    [/dump\.tar\.zst\.age$/],
  )
  await work.remove()
})

test('plain SQL with gzip (node:zlib), no encryption', async () => {
  const { work } = await backupAndRestore(
    `{ format: 'plain', compression: 'gzip', compressionLevel: 4 }`,
    [/dump\.sql\.gz$/],
  )
  const file = filesUnder(path.join(work.dir, 'backups')).find((f) => f.endsWith('.gz'))!
  const sql = execFileSync('sh', ['-c', `gzip -dc "${path.join(work.dir, 'backups', file)}"`], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  })
  assert.match(sql, /PostgreSQL database dump complete/)
  await work.remove()
})

test('BACKUP_COMPRESSION=false means no compression; the age library engine output decrypts with the age CLI', async () => {
  const { work, key } = await backupAndRestore(
    `{ encryption: { recipients: [RECIPIENT], engine: 'library' } }`,
    [/dump\.pgdump\.age$/],
    { BACKUP_COMPRESSION: 'false' },
    'archive',
  )
  const file = filesUnder(path.join(work.dir, 'backups')).find((f) => f.endsWith('.age'))!
  const manifest = JSON.parse(
    readFileSync(path.join(work.dir, 'backups', path.dirname(file), 'manifest.json'), 'utf8'),
  )
  assert.equal(manifest.compression, { algorithm: 'none' })
  const list = execFileSync(
    'sh',
    ['-c', `age -d -i "${key.file}" "${path.join(work.dir, 'backups', file)}" | pg_restore --list`],
    { encoding: 'utf8' },
  )
  assert.match(list, /TABLE DATA app items/)
  await work.remove()
})

test('an age identity given as DBOPS_AGE_IDENTITY (no file) restores through the library', async () => {
  const work = await makeWorkdir()
  const key = ageKey(work.dir)
  await work.write(
    'dbops.config.ts',
    configFile(`{ encryption: { recipients: [${JSON.stringify(key.recipient)}] } }`),
  )
  assert.is((await runCli(['run', 'dump'], { cwd: work.dir, env })).code, 0)
  const v = await runCli(['backups', 'verify', 'latest', '--level', 'archive'], {
    cwd: work.dir,
    env: { ...env, DBOPS_AGE_IDENTITY: key.identity },
  })
  assert.is(v.code, 0, v.stderr)
  assert.match(v.stdout, /pg_restore --list read \d+ entries/)
  await work.remove()
})

test('a list of databases with globals: one set per database, each with pg_dumpall --globals-only', async () => {
  const work = await makeWorkdir()
  const key = ageKey(work.dir)
  await work.write(
    'dbops.config.ts',
    configFile(
      `{ databases: [${JSON.stringify(db.name)}, ${JSON.stringify(secondName)}], globals: true, encryption: { recipients: [${JSON.stringify(key.recipient)}] } }`,
    ),
  )
  const r = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const sets = json(r.stdout).steps[0].result.sets
  assert.equal(
    sets.map((s: any) => s.database),
    [db.name, secondName],
  )
  const files = filesUnder(path.join(work.dir, 'backups'))
  assert.is(files.filter((f) => f.endsWith('globals.sql.zst.age')).length, 2)
  const globals = execFileSync(
    'sh',
    [
      '-c',
      `age -d -i "${key.file}" "${path.join(work.dir, 'backups', files.find((f) => f.endsWith('globals.sql.zst.age'))!)}" | zstd -dc`,
    ],
    { encoding: 'utf8' },
  )
  assert.match(globals, /CREATE ROLE dbops_test/)
  const list = await runCli(['backups', 'list', '--all', '--json'], { cwd: work.dir, env })
  assert.equal(
    json(list.stdout)
      .backups.map((b: any) => b.database)
      .sort(),
    [db.name, secondName].sort(),
  )
  // restore the second database, globals first
  const target = `${secondName}_r`
  const rr = await runCli(
    [
      'backups',
      'restore',
      'latest',
      '--database',
      secondName,
      '--globals',
      '--target-db',
      target,
      '--create',
      '--json',
    ],
    { cwd: work.dir, env: { ...env, DBOPS_AGE_IDENTITY_FILE: key.file } },
  )
  assert.is(rr.code, 0, rr.stderr + rr.stdout)
  assert.is(json(rr.stdout).rowCounts, 'match')
  await db.query(`drop database "${target}" with (force)`)
  await work.remove()
})

test('pgdump:retention applies core retention to every database of the list, per destination', async () => {
  const work = await makeWorkdir()
  await work.write(
    'dbops.config.ts',
    configFile(
      `{ databases: [${JSON.stringify(db.name)}, ${JSON.stringify(secondName)}], compression: 'gzip' }`,
      {
        pipelines: `{ dump: ['pgdump:dump'], prune: ['pgdump:retention'] }`,
        retention: `{ maxAgeDays: 30, keepLast: 0, minKeep: 1 }`,
      },
    ),
  )
  for (let i = 0; i < 2; i++)
    assert.is((await runCli(['run', 'dump'], { cwd: work.dir, env })).code, 0)
  const manifests = () =>
    filesUnder(path.join(work.dir, 'backups')).filter((f) => f.endsWith('manifest.json'))
  assert.is(manifests().length, 4)
  // the first set of each database is made 60 days old
  const old = [db.name, secondName].map(
    (name) =>
      manifests()
        .filter((f) => f.startsWith(`${name}/`))
        .sort()[0]!,
  )
  for (const f of old) {
    const file = path.join(work.dir, 'backups', f)
    const m = JSON.parse(readFileSync(file, 'utf8'))
    m.startedAt = new Date(Date.now() - 60 * 86_400_000).toISOString()
    writeFileSync(file, JSON.stringify(m))
  }
  const plan = await runCli(['run', 'prune', '--dry-run'], { cwd: work.dir, env })
  assert.is(plan.code, 0, plan.stderr)
  assert.is(manifests().length, 4, 'a dry run deleted something')
  const r = await runCli(['run', 'prune', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr + r.stdout)
  const result = json(r.stdout).steps[0].result
  assert.equal(
    result.map((o: any) => [o.database, o.deleted.length, o.kept.length]),
    [
      [db.name, 1, 1],
      [secondName, 1, 1],
    ],
  )
  assert.equal(
    manifests().sort(),
    manifests()
      .filter((f) => !old.includes(f))
      .sort(),
  )
  assert.is(manifests().length, 2)
  await work.remove()
})

test('--dry-run shows the plan and stores nothing', async () => {
  const work = await makeWorkdir({ 'dbops.config.ts': configFile(`{ compression: 'gzip' }`) })
  const r = await runCli(['run', 'backup', '--dry-run'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr)
  assert.match(
    r.stdout + r.stderr,
    /would dump .* \(custom, compression gzip, not encrypted\) to local/,
  )
  assert.equal(filesUnder(path.join(work.dir, 'backups')), [])
  await work.remove()
})

test.after(async () => {
  await db.query(`drop database "${secondName}" with (force)`)
  await db.drop()
})
test.run()
