import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { lockKey } from 'dbops/plugin'
import { createTestDatabase, runCli, type TestDatabase } from '@dbops/test-utils'
import {
  indexIdentity,
  invalidIndexes,
  makeBloatedTable,
  reindexProject,
  TEST_OPTIONS,
} from './fixtures.ts'
import { startStandby } from './standby.ts'

let db: TestDatabase
const env = () => ({ DATABASE_URL: db.url })

test.before(async () => {
  db = await createTestDatabase('reindex_preflight')
  await makeBloatedTable(db)
})
test.after(async () => {
  await db?.drop()
})

async function withProject<T>(options: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const project = await reindexProject(options)
  try {
    return await fn(project.dir)
  } finally {
    await project.remove()
  }
}

async function waitFor(
  condition: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function session(): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: db.url })
  await c.connect()
  return c
}

test('an old open transaction makes apply refuse, naming its pid and age; nothing is rebuilt', async () => {
  const before = await indexIdentity(db, 'bloated_email_idx')
  const old = await session()
  try {
    await old.query(`set application_name = 'report-job'`)
    await old.query('begin')
    await old.query('select txid_current()')
    const pid = (await old.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    await waitFor(
      async () =>
        (
          await db.query(
            `select 1 from pg_stat_activity where pid = $1 and xact_start < clock_timestamp() - interval '1.1 s'`,
            [pid],
          )
        ).rowCount === 1,
      'the transaction to be older than maxTransactionAge',
    )
    await withProject(
      `{ minBloatSize: '256kB', minTableSize: '64kB', preflight: { maxTransactionAge: '1s' } }`,
      async (dir) => {
        const r = await runCli(['run', 'optimize'], { cwd: dir, env: env() })
        assert.is(r.code, 1, r.stdout + r.stderr)
        const all = r.stdout + r.stderr
        assert.match(
          all,
          new RegExp(
            `the transaction of pid ${pid} \\(user postgres, application 'report-job', idle in transaction\\) has been open for \\d`,
          ),
        )
        assert.match(all, /longer than preflight\.maxTransactionAge \(1s\)/)
        assert.match(all, new RegExp(`pg_terminate_backend\\(${pid}\\)`))
        // the plan step says so too, before apply refuses
        const plan = await runCli(['reindex', 'plan', '--json'], { cwd: dir, env: env() })
        const refusals = (
          JSON.parse(plan.stdout) as { refusals: { code: string; message: string }[] }
        ).refusals
        assert.equal(
          refusals.map((x) => x.code),
          ['OLD_TRANSACTION'],
        )
      },
    )
    await withProject(
      `{ minBloatSize: '256kB', minTableSize: '64kB', preflight: { maxTransactionAge: '1s', whenRefused: 'skip' } }`,
      async (dir) => {
        const r = await runCli(['run', 'optimize', '--json'], { cwd: dir, env: env() })
        assert.is(r.code, 0, r.stdout + r.stderr)
        const step = (
          JSON.parse(r.stdout) as { steps: { id: string; status: string; summary: string }[] }
        ).steps.find((s) => s.id === 'reindex:apply')!
        assert.match(
          step.summary,
          new RegExp(`refused, nothing rebuilt: the transaction of pid ${pid}`),
        )
      },
    )
  } finally {
    await old.end()
  }
  assert.equal(await indexIdentity(db, 'bloated_email_idx'), before)
})

test('outside the maintenance window apply refuses with the window in the sentence', async () => {
  const hour = new Date().getUTCHours()
  const at = (h: number) => `${String((hour + h) % 24).padStart(2, '0')}:00`
  await withProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', preflight: { window: { start: '${at(2)}', end: '${at(3)}' } } }`,
    async (dir) => {
      const r = await runCli(['reindex', 'apply'], { cwd: dir, env: env() })
      assert.is(r.code, 1)
      assert.match(r.stderr, new RegExp(`outside the maintenance window ${at(2)}–${at(3)} UTC`))
    },
  )
})

test('too little free disk for the largest rebuild: refuse, saying how much is free and needed', async () => {
  await withProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', preflight: { disk: { reserve: '900TB' } } }`,
    async (dir) => {
      const r = await runCli(['reindex', 'apply'], { cwd: dir, env: env() })
      assert.is(r.code, 1, r.stderr)
      assert.match(
        r.stderr,
        /only [\d.]+ [kMGT]?B is free at \S+, less than the [\d.]+ TB needed to rebuild public\.bloated_email_idx/,
      )
    },
  )
})

test('a second maintenance run is refused while one holds the lock, naming the holder', async () => {
  const holder = await session()
  try {
    await holder.query(`set application_name = 'dbops-other-run'`)
    await holder.query('select pg_advisory_lock($1::bigint)', [lockKey('maintenance').toString()])
    const pid = (await holder.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid
    await withProject(TEST_OPTIONS, async (dir) => {
      for (const sub of ['apply', 'analyze']) {
        const r = await runCli(['reindex', sub], { cwd: dir, env: env() })
        assert.is(r.code, 1, r.stderr)
        assert.match(
          r.stderr,
          new RegExp(`the "maintenance" lock is held by pid ${pid} \\(dbops-other-run`),
        )
      }
    })
  } finally {
    await holder.end()
  }
})

test('a lock held by another session: each attempt times out, is retried, then skipped and reported', async () => {
  const before = await indexIdentity(db, 'bloated_email_idx')
  const blocker = await session()
  try {
    await blocker.query('begin')
    await blocker.query('lock table bloated in share update exclusive mode')
    await withProject(
      `{ minBloatSize: '256kB', minTableSize: '64kB', lockTimeout: '200ms', attempts: 3, retryDelays: ['100ms', '200ms'] }`,
      async (dir) => {
        const r = await runCli(['reindex', 'apply', '--json'], { cwd: dir, env: env() })
        assert.is(r.code, 0, r.stderr) // skipped by policy: not a failure
        const result = JSON.parse(r.stdout) as {
          indexes: {
            index: string
            status: string
            attempts: number
            reason: string
            durationMs: number
          }[]
          skipped: number
        }
        const email = result.indexes.find((o) => o.index === 'bloated_email_idx')!
        assert.is(email.status, 'skipped')
        assert.is(email.attempts, 3)
        assert.match(
          email.reason,
          /a lock was not available within lock_timeout on each of 3 attempt\(s\)/,
        )
        assert.ok(
          email.durationMs >= 3 * 200 + 100 + 200,
          `waited lock_timeout on each attempt plus the backoff (${email.durationMs}ms)`,
        )
      },
    )
  } finally {
    await blocker.query('rollback')
    await blocker.end()
  }
  assert.equal(await indexIdentity(db, 'bloated_email_idx'), before)
  assert.equal(await invalidIndexes(db), [])
})

test('a writer transaction left open mid-rebuild: the leftover is reported, then cleaned by the next run', async () => {
  const blocker = await session()
  await withProject(
    `{ minBloatSize: '256kB', minTableSize: '64kB', lockTimeout: '300ms', attempts: 3, retryDelays: ['100ms'], exclude: ['bloated_pkey'] }`,
    async (dir) => {
      try {
        await blocker.query('begin')
        await blocker.query('update bloated set n = n where id = (select min(id) from bloated)')
        const r = await runCli(['reindex', 'apply', '--json'], { cwd: dir, env: env() })
        assert.is(r.code, 0, r.stderr)
        const email = (
          JSON.parse(r.stdout) as {
            indexes: { index: string; status: string; attempts: number; reason: string }[]
          }
        ).indexes[0]!
        assert.is(email.status, 'skipped')
        assert.is(email.attempts, 1) // retrying would only stack up _ccnew1, _ccnew2...
        assert.match(email.reason, /its leftover bloated_email_idx_ccnew could not be dropped yet/)
      } finally {
        await blocker.query('rollback')
        await blocker.end()
      }
      assert.equal(await invalidIndexes(db), ['bloated_email_idx_ccnew'])
      const again = await runCli(['reindex', 'apply', '--json'], { cwd: dir, env: env() })
      assert.is(again.code, 0, again.stderr)
      const result = JSON.parse(again.stdout) as {
        leftoversDropped: string[]
        indexes: { status: string }[]
      }
      assert.equal(result.leftoversDropped, ['public.bloated_email_idx_ccnew'])
      assert.is(result.indexes[0]!.status, 'rebuilt')
      assert.equal(await invalidIndexes(db), [])
    },
  )
})

test('on a standby apply and analyze refuse (or skip, per config)', async () => {
  const standby = await startStandby()
  try {
    await withProject(TEST_OPTIONS, async (dir) => {
      for (const sub of ['apply', 'analyze']) {
        const r = await runCli(['reindex', sub], { cwd: dir, env: { DATABASE_URL: standby.url } })
        assert.is(r.code, 1, r.stderr)
        assert.match(r.stderr, /the server is a standby \(in recovery\)/)
      }
    })
    await withProject(`{ preflight: { whenRefused: 'skip' } }`, async (dir) => {
      const r = await runCli(['run', 'optimize'], { cwd: dir, env: { DATABASE_URL: standby.url } })
      assert.is(r.code, 0, r.stderr)
      assert.match(r.stderr + r.stdout, /refused, nothing rebuilt: the server is a standby/)
    })
  } finally {
    await standby.stop()
  }
})

test.run()
