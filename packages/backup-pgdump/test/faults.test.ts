import { createHash } from 'node:crypto'
import { chmodSync, readFileSync, writeFileSync, truncateSync, existsSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { TEST_PASSWORD } from '@dbops/test-utils'
import {
  ageKey,
  configFile,
  filesUnder,
  json,
  makeWorkdir,
  runCli,
  seededDatabase,
} from './helpers.ts'
import { cmdline, environ, findProcesses, waitForProcess } from './procs.ts'

const db = await seededDatabase('pgdump_faults')
const work = await makeWorkdir()
const key = ageKey(work.dir)
const otherKey = ageKey(work.dir, 'other-key.txt')
const recipients = `encryption: { recipients: [${JSON.stringify(key.recipient)}] }`
await work.write('dbops.config.ts', configFile(`{ ${recipients}, verify: { level: 'checksum' } }`))
const env = { DATABASE_URL: db.passwordUrl }
const withKey = { ...env, DBOPS_AGE_IDENTITY_FILE: key.file }
const backups = path.join(work.dir, 'backups')
const digestOf = (dir: string) =>
  createHash('sha256')
    .update(
      filesUnder(dir)
        .map((f) => `${f}:${readFileSync(path.join(dir, f)).toString('base64')}`)
        .join('\n'),
    )
    .digest('hex')

let good = '' // a set made before the faults: it must survive every one of them
const manifestOf = (id: string) =>
  JSON.parse(readFileSync(path.join(backups, db.name, id, 'manifest.json'), 'utf8'))
const dumpFile = (id: string) => path.join(backups, db.name, id, 'dump.pgdump.zst.age')

const setup = suite('setup')
setup('a good backup to compare against', async () => {
  const r = await runCli(['run', 'backup', '--json'], { cwd: work.dir, env })
  assert.is(r.code, 0, r.stderr + r.stdout)
  good = json(r.stdout).steps[0].result.sets[0].id
})
setup.run()

/** A crash (an unhandled error) is never an acceptable way for a run to fail. */
function assertNoCrash(r: { stderr: string; stdout: string }) {
  assert.not.match(
    r.stderr + r.stdout,
    /Unhandled 'error' event|node:internal|at process\.processTicksAndRejections/,
  )
}

/** A failed run must leave exactly what was there before: no manifest, no partial object, no deletion. */
async function assertNothingChanged(before: string) {
  assert.is(digestOf(backups), before, 'the backups directory changed')
  assert.equal(
    filesUnder(backups).filter((f) => f.includes('partial') || path.basename(f).startsWith('.')),
    [],
  )
}

const dump = suite('faults while dumping')

dump('pg_dump older than the server: a clear sentence, exit 1, nothing stored', async () => {
  const fake = await work.write('old-bin/pg_dump', '#!/bin/sh\necho "pg_dump (PostgreSQL) 11.22"\n')
  chmodSync(fake, 0o755)
  const w = await makeWorkdir({
    'dbops.config.ts': configFile(`{ pgDumpPath: ${JSON.stringify(fake)} }`),
  })
  const r = await runCli(['run', 'dump'], { cwd: w.dir, env })
  assert.is(r.code, 1)
  assert.match(r.stderr, /pg_dump 11\.22 .* is older than the server \(PostgreSQL 15/)
  assert.match(r.stderr, /postgresql-client-15|\/usr\/lib\/postgresql\/15\/bin/)
  assert.equal(filesUnder(path.join(w.dir, 'backups')), [])
  await w.remove()
})

dump(
  'pg_dump output that is not what the format promises fails the sanity check: exit 1, nothing stored',
  async () => {
    // a real pg_dump, misconfigured: a later --format wins, so the "custom" archive is plain SQL
    const w = await makeWorkdir({
      'dbops.config.ts': configFile(`{ extraArgs: ['--format=plain'] }`),
    })
    const r = await runCli(['run', 'dump'], { cwd: w.dir, env })
    assert.is(r.code, 1, r.stderr)
    assert.match(
      r.stderr,
      /pg_dump custom archive failed the sanity check: it does not start with the PGDMP header/,
    )
    assert.equal(filesUnder(path.join(w.dir, 'backups')), [])
    await w.remove()
  },
)

dump('a database that does not exist: exit 1, the sentence names it, nothing stored', async () => {
  const before = digestOf(backups)
  const r = await runCli(['run', 'backup', '--json'], {
    cwd: work.dir,
    env: { DATABASE_URL: db.passwordUrl.replace(/\/[^/]+$/, '/no_such_db') },
  })
  assert.is(r.code, 1)
  const step = json(r.stdout).steps[0]
  assert.is(step.status, 'failed')
  assert.match(step.error.message, /no_such_db/)
  assert.is(json(r.stdout).steps.find((s: any) => s.id === 'retention:apply').status, 'not-run')
  assert.not.ok(r.stdout.includes(TEST_PASSWORD))
  await assertNothingChanged(before)
})

dump(
  'one of two destinations failing: the other gets a complete set, the run exits 1 naming the failed one',
  async () => {
    const w = await makeWorkdir({ blocker: 'a file where a directory should be' })
    await w.write(
      'dbops.config.ts',
      configFile(`{ ${recipients} }`, {
        storage: `{ good: { dir: './good' }, broken: { dir: './blocker/sub' } }`,
      }),
    )
    const r = await runCli(['run', 'backup', '--json'], { cwd: w.dir, env })
    assert.is(r.code, 1, r.stdout)
    const step = json(r.stdout).steps[0]
    assert.is(step.error.code, 'BACKUP_DESTINATION_FAILED')
    assert.match(step.error.message, /failed on broken/)
    assert.match(step.error.message, /complete on good/)
    const files = filesUnder(path.join(w.dir, 'good'))
    assert.is(files.length, 2)
    assert.ok(files.some((f) => f.endsWith('manifest.json')))
    assert.is(json(r.stdout).steps.find((s: any) => s.id === 'retention:apply').status, 'not-run')
    await w.remove()
  },
)

dump('the only destination not writable: exit 1, a sentence, no manifest', async () => {
  const w = await makeWorkdir({ blocker: 'x' })
  await w.write(
    'dbops.config.ts',
    configFile(`{}`, { storage: `{ local: { dir: './blocker/backups' } }` }),
  )
  const r = await runCli(['run', 'dump'], { cwd: w.dir, env })
  assert.is(r.code, 1)
  assert.match(r.stderr, /could not be stored anywhere: local: .*(ENOTDIR|not a directory)/)
  await w.remove()
})

/** Holds an exclusive lock on a table so that pg_dump blocks mid-run, waiting for it. */
async function lockTable(): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  await client.query('begin; lock table app.items in access exclusive mode')
  return {
    release: async () => {
      await client.query('rollback').catch(() => {})
      await client.end()
    },
  }
}

dump(
  'the password never reaches pg_dump argv (read from /proc while it runs); it is in its environment',
  async () => {
    const lock = await lockTable()
    try {
      const run = runCli(['run', 'dump'], { cwd: work.dir, env })
      const pid = await waitForProcess('pg_dump', `PGDATABASE=${db.name}`)
      const argv = cmdline(pid).join(' ')
      assert.not.ok(argv.includes(TEST_PASSWORD), `argv: ${argv}`)
      assert.not.ok(argv.includes('dbops_test:'), 'no URL with credentials in argv')
      assert.ok(environ(pid).includes(`PGPASSWORD=${TEST_PASSWORD}`))
      process.kill(pid, 'SIGKILL') // and: pg_dump killed mid-dump
      const r = await run
      assertNoCrash(r)
      assert.is(r.code, 1)
      assert.match(r.stderr, /pg_dump of .* was killed by SIGKILL/)
      assert.not.ok(r.stderr.includes(TEST_PASSWORD))
    } finally {
      await lock.release()
    }
  },
)

dump(
  'pg_dump killed mid-dump and the server connection lost mid-dump: exit 1, no manifest, earlier sets untouched',
  async () => {
    const before = digestOf(backups)
    const lock = await lockTable()
    try {
      const run = runCli(['run', 'backup', '--json'], { cwd: work.dir, env })
      await waitForProcess('pg_dump', `PGDATABASE=${db.name}`)
      // the server ends pg_dump's session, as a restart or failover would
      const admin = new pg.Client({ connectionString: db.url })
      await admin.connect()
      for (let i = 0; i < 100; i++) {
        const { rowCount } = await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike 'lock table%'`,
          [db.name],
        )
        if (rowCount) break
        await new Promise((r) => setTimeout(r, 50))
      }
      await admin.end()
      const r = await run
      assertNoCrash(r)
      assert.is(r.code, 1, r.stdout)
      const step = json(r.stdout).steps[0]
      assert.is(step.error.code, 'PGDUMP_CONNECTION_LOST', step.error.message)
      assert.match(step.error.message, /pg_dump of .* exited with code 1/)
    } finally {
      await lock.release()
    }
    await assertNothingChanged(before)
  },
)

dump(
  'pg_dump killed while data is streaming: the partly written object is removed, no manifest',
  async () => {
    // A destination that takes its time (a throttled local directory), so pg_dump is killed with
    // data in flight; it drops a marker once the first bytes arrived.
    const big = `${db.name}_big`
    await db.query(`create database "${big}"`)
    const bigDb = new pg.Client({ connectionString: db.url.replace(/\/[^/]+$/, `/${big}`) })
    await bigDb.connect()
    await bigDb.query(
      `create table blob as select g as id, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) as body from generate_series(1, 300000) g`,
    )
    await bigDb.end()
    const w = await makeWorkdir()
    const marker = path.join(w.dir, 'first-bytes')
    await w.write(
      'dbops.config.ts',
      configFile(`{ format: 'plain', compression: 'none' }`, {
        imports: `import { defineStorage, localStorage } from 'dbops/plugin'
import { z } from 'zod'
import { Transform, pipeline } from 'node:stream'
import { writeFileSync } from 'node:fs'
const slow = defineStorage({
  type: 'slow',
  options: z.object({ dir: z.string() }),
  create: (o, name) => {
    const inner = localStorage(name, o.dir)
    return {
      ...inner,
      put: (key, body, options) => {
        const throttle = new Transform({ transform(chunk, _e, done) { writeFileSync(${JSON.stringify(marker)}, 'x'); setTimeout(() => done(null, chunk), 20) } })
        pipeline(body, throttle, () => {})
        return inner.put(key, throttle, options)
      },
    }
  },
})`,
        storage: `{ slow: slow({ dir: ${JSON.stringify(path.join(w.dir, 'slow'))} }) }`,
      }),
    )
    const run = runCli(['run', 'dump'], {
      cwd: w.dir,
      env: { DATABASE_URL: db.passwordUrl.replace(/\/[^/]+$/, `/${big}`) },
    })
    const pid = await waitForProcess('pg_dump', `PGDATABASE=${big}`)
    for (let i = 0; i < 300 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20))
    assert.ok(existsSync(marker), 'no data reached the destination')
    process.kill(pid, 'SIGKILL')
    const r = await run
    assertNoCrash(r)
    assert.is(r.code, 1, r.stderr)
    assert.match(r.stderr, /pg_dump of .* was killed by SIGKILL/)
    assert.equal(
      filesUnder(path.join(w.dir, 'slow')),
      [],
      'a partial object or a manifest was left',
    )
    await w.remove()
    await db.query(`drop database "${big}" with (force)`)
  },
)

dump('interrupted (SIGINT) mid-dump: exit 130, nothing stored, pg_dump stopped', async () => {
  const before = digestOf(backups)
  const lock = await lockTable()
  try {
    const run = runCli(['run', 'backup'], { cwd: work.dir, env })
    const pid = await waitForProcess('pg_dump', `PGDATABASE=${db.name}`)
    // Ctrl-C reaches the dbops process (the one whose environment is this test's)
    for (const cli of findProcesses('node', `DATABASE_URL=${db.passwordUrl}`))
      process.kill(cli, 'SIGINT')
    const r = await run
    assertNoCrash(r)
    assert.is(r.code, 130, r.stderr)
    assert.not.ok(
      existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] !== 'Z',
      'pg_dump still running',
    )
  } finally {
    await lock.release()
  }
  await assertNothingChanged(before)
})

dump.run()

const stored = suite('faults in stored backups')

stored(
  'a wrong age identity: verify and restore stop with a sentence before touching anything',
  async () => {
    const v = await runCli(['backups', 'verify', good, '--level', 'archive'], {
      cwd: work.dir,
      env: { ...env, DBOPS_AGE_IDENTITY_FILE: otherKey.file },
    })
    assert.is(v.code, 1)
    assert.match(v.stderr, /does not match any recipient of this backup/)
    const r = await runCli(
      ['backups', 'restore', good, '--target-db', `${db.name}_wrongkey`, '--create'],
      { cwd: work.dir, env: { ...env, DBOPS_AGE_IDENTITY: otherKey.identity } },
    )
    assert.is(r.code, 1)
    assert.match(r.stderr, /does not match any recipient/)
    assert.not.ok(r.stderr.includes(otherKey.identity))
    const exists = await db.query(`select 1 from pg_database where datname = $1`, [
      `${db.name}_wrongkey`,
    ])
    assert.is(exists.rowCount, 0, 'the target was created')
    assert.is(
      manifestOf(good).verification.at(-1).status,
      'verified',
      'a missing key is not recorded as a failed backup',
    )
  },
)

stored('a missing age identity: a sentence naming the variables', async () => {
  const v = await runCli(['backups', 'verify', 'latest', '--level', 'archive'], {
    cwd: work.dir,
    env,
  })
  assert.is(v.code, 1)
  assert.match(v.stderr, /no age identity/)
  assert.match(v.stderr, /DBOPS_AGE_IDENTITY/)
})

stored(
  'a bit-flipped object: verify fails and records it; restore refuses before touching the target',
  async () => {
    const r0 = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env })
    assert.is(r0.code, 0, r0.stderr)
    const id = json(r0.stdout).steps[0].result.sets[0].id
    const file = dumpFile(id)
    const bytes = readFileSync(file)
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01
    writeFileSync(file, bytes)
    const v = await runCli(['backups', 'verify', id, '--level', 'checksum', '--json'], {
      cwd: work.dir,
      env: withKey,
    })
    assert.is(v.code, 1)
    const out = json(v.stdout)
    assert.is(out.status, 'failed')
    assert.match(out.checks[0].detail, /does not match its checksum/)
    assert.is(manifestOf(id).verification.at(-1).status, 'failed')
    // the archive level catches it too (age authenticates every chunk)
    const a = await runCli(['backups', 'verify', id, '--level', 'archive'], {
      cwd: work.dir,
      env: withKey,
    })
    assert.is(a.code, 1)
    assert.match(a.stderr, /corrupt/)
    const target = `${db.name}_flipped`
    const r = await runCli(['backups', 'restore', id, '--target-db', target, '--create'], {
      cwd: work.dir,
      env: withKey,
    })
    assert.is(r.code, 1)
    assert.match(r.stderr, /refusing to restore/)
    assert.is(
      (await db.query(`select 1 from pg_database where datname = $1`, [target])).rowCount,
      0,
    )
    // `latest` skips nothing silently: the list still shows it, marked FAILED
    const list = await runCli(['backups', 'list'], { cwd: work.dir, env })
    assert.match(list.stdout, new RegExp(`${id}.*FAILED`))
  },
)

stored('a truncated object: verify says truncated; restore refuses', async () => {
  const r0 = await runCli(['run', 'dump', '--json'], { cwd: work.dir, env })
  const id = json(r0.stdout).steps[0].result.sets[0].id
  const file = dumpFile(id)
  truncateSync(file, Math.floor(readFileSync(file).length * 0.6))
  const v = await runCli(['backups', 'verify', id, '--level', 'checksum'], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(v.code, 1)
  assert.match(v.stderr, /truncated/)
  const r = await runCli(
    ['backups', 'restore', id, '--target-db', `${db.name}_trunc`, '--create'],
    { cwd: work.dir, env: withKey },
  )
  assert.is(r.code, 1)
  assert.match(r.stderr, /refusing to restore .*truncated/)
})

stored('a missing set: exit 1 with the id and a hint', async () => {
  const r = await runCli(
    ['backups', 'restore', '20200101T000000Z-dead', '--target-db', 'x', '--create'],
    { cwd: work.dir, env: withKey },
  )
  assert.is(r.code, 1)
  assert.match(r.stderr, /no backup with id 20200101T000000Z-dead/)
  assert.match(r.stderr, /dbops backups list/)
})

stored('the good set survived every fault above', async () => {
  const r = await runCli(['backups', 'verify', good, '--level', 'archive'], {
    cwd: work.dir,
    env: withKey,
  })
  assert.is(r.code, 0, r.stderr)
})

stored.run()

const config = suite('bad config')
config(
  'a malformed recipient and a bad BACKUP_COMPRESSION: exit 2, both reported at once',
  async () => {
    const w = await makeWorkdir({
      'dbops.config.ts': configFile(`{ encryption: { recipients: ['age1nope'] } }`),
    })
    const r = await runCli(['run', 'dump'], {
      cwd: w.dir,
      env: { ...env, BACKUP_COMPRESSION: 'brotli' },
    })
    assert.is(r.code, 2)
    assert.match(r.stderr, /recipients.*not an age X25519 recipient/)
    assert.match(r.stderr, /BACKUP_COMPRESSION='brotli' is not a compression/)
    await w.remove()
  },
)
config.after(async () => {
  await work.remove()
  await db.drop()
})
config.run()
