import { existsSync, readdirSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { TEST_ROLE } from '@dbops/test-utils'
import {
  ageKey,
  configFile,
  filesUnder,
  json,
  makeWorkdir,
  runCli,
  seededDatabase,
} from './helpers.ts'
import { mountForSuite, unmountAll } from './mounts.ts'
import { findProcesses } from './procs.ts'

/**
 * Faults whose message pointed the wrong way (issue 12 §5 g): each is now avoided or named.
 */
const db = await seededDatabase('pgdump_messages')
const work = await makeWorkdir()
const key = ageKey(work.dir)
await work.write(
  'dbops.config.ts',
  configFile(
    `{ encryption: { recipients: [${JSON.stringify(key.recipient)}] }, verify: { level: 'archive' } }`,
  ),
)
const env = { DATABASE_URL: db.passwordUrl }
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** A hung run is killed here, so that the test fails instead of hanging the suite. */
const SAFETY_NET = { signal: 'SIGKILL' as const, ms: 120_000 }

/** Polls until `condition` holds; fails with `what` after a bound meant for a loaded machine. */
async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 90_000,
): Promise<void> {
  const until = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

/** Holds an exclusive lock on a table, so that pg_dump (and any reader) waits for it. */
async function lockTable(table = 'app.items'): Promise<{ pid: number; release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url })
  await client.connect()
  const pid = Number((await client.query('select pg_backend_pid() as pid')).rows[0].pid)
  await client.query(`begin; lock table ${table} in access exclusive mode`)
  let released = false
  return {
    pid,
    release: async () => {
      if (released) return
      released = true
      await client.query('rollback').catch(() => {})
      await client.end()
    },
  }
}

const waitingOnLock = async (what: string) =>
  Number(
    (
      await db.query(
        `select count(*)::int as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike $2`,
        [db.name, what],
      )
    ).rows[0]!.n,
  ) > 0

/**
 * dbops's snapshot session: the oldest open transaction on the database (pg_dump's sessions
 * start theirs later), other than the test's own lock holders.
 */
async function snapshotSession(
  exclude: number[] = [],
): Promise<{ pid: number; state: string; idleMs: number } | undefined> {
  const { rows } = await db.query(
    `select pid, state, extract(epoch from now() - state_change) * 1000 as idle_ms from pg_stat_activity
     where datname = $1 and xact_start is not null and pid <> pg_backend_pid() and not (pid = any($2::int[])) order by xact_start limit 1`,
    [db.name, exclude],
  )
  return rows[0]
    ? { pid: Number(rows[0].pid), state: String(rows[0].state), idleMs: Number(rows[0].idle_ms) }
    : undefined
}
const idleFor = async (ms: number, exclude: number[] = []) => {
  const s = await snapshotSession(exclude)
  return s?.state === 'idle in transaction' && s.idleMs >= ms
}

/**
 * A destination that reads nothing until the file `gate` exists: the dump stays in flight
 * (and dbops's snapshot session idle in its transaction) for as long as the test wants.
 */
const gatedConfig = (gate: string) =>
  configFile(`{}`, {
    imports: `import { defineStorage, localStorage } from 'dbops/plugin'
import { z } from 'zod'
import { existsSync } from 'node:fs'
const gated = defineStorage({
  type: 'gated',
  options: z.object({ dir: z.string() }),
  create: (o, name) => {
    const inner = localStorage(name, o.dir)
    return {
      ...inner,
      put: async (key, body, options) => {
        while (!existsSync(${JSON.stringify(gate)})) await new Promise((r) => setTimeout(r, 20))
        return inner.put(key, body, options)
      },
    }
  },
})`,
    storage: `{ local: gated({ dir: './backups' }) }`,
  })

const messages = suite('messages that point the right way')

messages(
  'a role with a short statement_timeout and idle_in_transaction_session_timeout: the backup is made anyway',
  async () => {
    const w = await makeWorkdir()
    const gate = path.join(w.dir, 'gate')
    await w.write('dbops.config.ts', gatedConfig(gate))
    // The timeouts apply to this role in this database only (other suites share the role).
    await db.query(
      `alter role ${TEST_ROLE} in database "${db.name}" set statement_timeout = '50ms'`,
    )
    await db.query(
      `alter role ${TEST_ROLE} in database "${db.name}" set idle_in_transaction_session_timeout = '100ms'`,
    )
    // A table locked by someone else: every reader of it (dbops's count, pg_dump) waits far longer than 50 ms.
    const lock = await lockTable()
    let ended = false
    const run = runCli(['run', 'dump', '--json'], {
      cwd: w.dir,
      env,
      signalAfterMs: SAFETY_NET,
    }).finally(() => (ended = true))
    try {
      await waitFor(
        async () => ended || (await waitingOnLock('lock table%')),
        'pg_dump to wait for the lock',
      )
      await lock.release()
      // Counting done, the dump held at the destination: the snapshot session idles in its
      // transaction, for five times the idle timeout of the role.
      await waitFor(
        async () => ended || (await idleFor(500, [lock.pid])),
        'the snapshot session to idle',
      )
    } finally {
      await lock.release()
      writeFileSync(gate, '')
      await db.query(`alter role ${TEST_ROLE} in database "${db.name}" reset statement_timeout`)
      await db.query(
        `alter role ${TEST_ROLE} in database "${db.name}" reset idle_in_transaction_session_timeout`,
      )
    }
    const r = await run
    await w.remove()
    assert.is(r.code, 0, r.stderr + r.stdout)
    assert.ok(json(r.stdout).steps[0].result.sets[0].id)
  },
)

messages(
  'the snapshot session ended mid-backup: the error names the cause, in a sentence',
  async () => {
    const w = await makeWorkdir()
    const gate = path.join(w.dir, 'gate')
    await w.write('dbops.config.ts', gatedConfig(gate))
    let ended = false
    const run = runCli(['run', 'dump', '--json'], {
      cwd: w.dir,
      env,
      signalAfterMs: SAFETY_NET,
    }).finally(() => (ended = true))
    try {
      await waitFor(async () => ended || (await idleFor(200)), 'the snapshot session to idle')
      // an operator (or a watchdog) ends dbops's session while the dump is in flight
      const session = await snapshotSession()
      if (session) await db.query(`select pg_terminate_backend($1)`, [session.pid])
    } finally {
      writeFileSync(gate, '')
    }
    const r = await run
    await w.remove()
    assert.is(r.code, 1, r.stderr + r.stdout)
    const error = json(r.stdout).steps[0].error
    // Either pg_dump had not imported the snapshot yet, or it had and dbops's own session is
    // what is gone at the end: both are named, neither is a bare SQLSTATE or a driver message.
    if (error.code === 'PGDUMP_SNAPSHOT_LOST') {
      assert.match(
        error.message,
        /the snapshot dbops exported for it was gone before pg_dump could import it/,
      )
      assert.match(error.hint, /terminated/)
    } else {
      assert.is(error.code, 'DB_SESSION_TERMINATED', error.message)
      assert.match(
        error.message,
        /the server ended the session \(pg_terminate_backend, or a shutdown\) while/,
      )
      assert.match(error.hint, /Run the backup again/)
    }
    assert.equal(filesUnder(path.join(w.dir, 'backups')), [], 'something was stored')
  },
)

messages(
  'a destination that ignores its abort signal cannot hold the run: --timeout ends it',
  async () => {
    // A storage plugin whose put neither reads nor ever settles, whatever its signal says.
    const w = await makeWorkdir()
    await w.write(
      'dbops.config.ts',
      configFile(`{}`, {
        imports: `import { defineStorage, localStorage } from 'dbops/plugin'
import { z } from 'zod'
const stuck = defineStorage({
  type: 'stuck',
  options: z.object({ dir: z.string() }),
  create: (o, name) => ({ ...localStorage(name, o.dir), put: () => new Promise(() => {}) }),
})`,
        storage: `{ stuck: stuck({ dir: './backups' }) }`,
      }),
    )
    const started = Date.now()
    const r = await runCli(['run', 'dump', '--json', '--timeout', '3s'], {
      cwd: w.dir,
      env,
      signalAfterMs: SAFETY_NET,
    })
    await w.remove()
    assert.is(r.code, 1, r.stderr + r.stdout)
    assert.is(json(r.stdout).status, 'aborted')
    assert.match(r.stderr + r.stdout, /stuck: its upload did not stop within 30 s of being told to/)
    assert.ok(Date.now() - started < SAFETY_NET.ms, 'the run was killed by the safety net')
  },
)

messages('a malformed age identity is called malformed, not a wrong key', async () => {
  const r0 = await runCli(['run', 'dump'], { cwd: work.dir, env })
  assert.is(r0.code, 0, r0.stderr)
  const v = await runCli(['backups', 'verify', 'latest', '--level', 'archive'], {
    cwd: work.dir,
    env: { ...env, DBOPS_AGE_IDENTITY: 'AGE-SECRET-KEY-1GARBAGE' },
  })
  assert.is(v.code, 1)
  assert.match(v.stderr, /the age identity from DBOPS_AGE_IDENTITY is malformed/)
  assert.not.match(v.stderr, /does not match any recipient/)
  assert.not.ok(v.stderr.includes('AGE-SECRET-KEY-1GARBAGE'), 'the identity was printed')
  const file = await work.write(
    'garbage-key.txt',
    '# created: 2026-01-01\nAGE-SECRET-KEY-1GARBAGE\n',
  )
  const r = await runCli(
    ['backups', 'restore', 'latest', '--target-db', `${db.name}_garbage`, '--create'],
    { cwd: work.dir, env: { ...env, DBOPS_AGE_IDENTITY_FILE: file } },
  )
  assert.is(r.code, 1)
  assert.match(r.stderr, /is malformed/)
  assert.is(
    (await db.query(`select 1 from pg_database where datname = $1`, [`${db.name}_garbage`]))
      .rowCount,
    0,
    'the target was created',
  )
})

messages.run()

const disks = suite('destinations that cannot be written')
let readOnly = false
disks.before(() => {
  readOnly = mountForSuite(path.join(work.dir, 'ro'), { sizeMb: 1, readOnly: true })
  if (!readOnly) console.log('  (skipped: mounting a read-only tmpfs needs root)')
})
disks.after(() => unmountAll())

disks('a backup directory on a read-only disk is called not writable, not ENOENT', async () => {
  if (!readOnly) return
  const w = await makeWorkdir()
  await w.write(
    'dbops.config.ts',
    configFile(`{}`, {
      storage: `{ local: { dir: ${JSON.stringify(path.join(work.dir, 'ro', 'backups'))} } }`,
    }),
  )
  const r = await runCli(['run', 'dump', '--json'], { cwd: w.dir, env })
  assert.is(r.code, 1, r.stderr + r.stdout)
  const error = json(r.stdout).steps[0].error
  assert.match(
    error.message,
    /local: the backup directory .*\/ro\/backups is on a read-only file system \(EROFS/,
  )
  assert.not.match(error.message, /ENOENT/)
  assert.match(error.hint, /writable/)
  await w.remove()
})

disks.run()

const leftovers = suite('leftovers of a killed backup')

leftovers(
  "a kill -9 mid-dump leaves a hidden partial: the next backup removes it, never a running backup's",
  async () => {
    const w = await makeWorkdir({ 'dbops.config.ts': configFile(`{}`) })
    const local = path.join(w.dir, 'backups', db.name)
    const partials = () => filesUnder(local).filter((f) => path.basename(f).endsWith('.partial'))
    // The marker names this suite's process too: another checkout's suite running at the same
    // time must not find (and kill) this one's runs.
    const marker = (name: string) => `${name}-${process.pid}`
    const runAs = (name: string) =>
      runCli(['run', 'dump'], {
        cwd: w.dir,
        env: { ...env, DBOPS_TEST_RUN: marker(name) },
        signalAfterMs: SAFETY_NET,
      })
    const lock = await lockTable() // every pg_dump waits for it, with its partial open
    let running: ReturnType<typeof runCli> | undefined
    let next: ReturnType<typeof runCli> | undefined
    let pgDumpOfA: number | undefined
    try {
      // A: its partial is there, then it is killed outright
      const killed = runAs('A')
      let endedA: Awaited<typeof killed> | undefined
      void killed.then((r) => (endedA = r))
      await waitFor(() => endedA !== undefined || partials().length === 1, "run A's partial")
      assert.is(
        endedA,
        undefined,
        `run A ended before its partial was seen: ${endedA?.code}\n${endedA?.stderr}`,
      )
      const [partialOfA] = partials()
      await waitFor(
        () => findProcesses('pg_dump', `PGDATABASE=${db.name}`).length === 1,
        "run A's pg_dump",
      )
      pgDumpOfA = findProcesses('pg_dump', `PGDATABASE=${db.name}`)[0]
      for (const pid of findProcesses('node', `DBOPS_TEST_RUN=${marker('A')}`))
        process.kill(pid, 'SIGKILL')
      await killed
      assert.ok(
        existsSync(path.join(local, partialOfA!)),
        'the kill left its partial (the fault this test is about)',
      )
      // leftovers without a known writer (an older dbops, another host): removed only when old
      const aged = path.join(
        local,
        '20200101T000000Z-0001',
        `.dump.pgdump.zst.${randomUUID()}.partial`,
      )
      const fresh = path.join(
        local,
        '20200101T000000Z-0002',
        `.dump.pgdump.zst.${randomUUID()}.partial`,
      )
      for (const f of [aged, fresh]) {
        mkdirSync(path.dirname(f), { recursive: true })
        writeFileSync(f, 'partial')
      }
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600_000)
      utimesSync(aged, twoDaysAgo, twoDaysAgo)
      // B: the next backup; once its own partial exists it has swept the others
      running = runAs('B')
      const isNew = (known: string[]) => () =>
        partials().some((f) => !known.includes(f) && !f.startsWith('20200101'))
      await waitFor(isNew([partialOfA!]), "run B's partial")
      const [partialOfB] = partials().filter((f) => f !== partialOfA && !f.startsWith('20200101'))
      assert.not.ok(
        existsSync(path.join(local, partialOfA!)),
        "the killed run's partial is still there",
      )
      assert.not.ok(
        existsSync(path.dirname(path.join(local, partialOfA!))),
        "the killed run's folder is still there",
      )
      assert.not.ok(existsSync(aged), 'a two-day-old partial of an unknown writer is still there')
      assert.ok(
        existsSync(fresh),
        'a recent partial of an unknown writer (maybe still being written) was removed',
      )
      // C: a backup starting while B still runs leaves B's partial alone
      next = runAs('C')
      await waitFor(isNew([partialOfA!, partialOfB!]), "run C's partial")
      assert.ok(
        existsSync(path.join(local, partialOfB!)),
        "the running backup's partial was removed",
      )
    } finally {
      await lock.release()
    }
    const [b, c] = await Promise.all([running!, next!])
    assert.is(b.code, 0, b.stderr)
    assert.is(c.code, 0, c.stderr)
    assert.match(b.stderr, /local: removed .*\.partial .*left by an interrupted backup/)
    // A's orphaned pg_dump ends once its reader is gone
    await waitFor(
      () => !findProcesses('pg_dump', `PGDATABASE=${db.name}`).includes(pgDumpOfA!),
      "run A's pg_dump to end",
    )
    const sets = readdirSync(local).filter((d) => !d.startsWith('20200101'))
    assert.is(sets.length, 2, `two complete sets, nothing else: ${sets.join(', ')}`)
    await w.remove()
  },
)

leftovers.after(async () => {
  await work.remove()
  await db.drop()
})
leftovers.run()
