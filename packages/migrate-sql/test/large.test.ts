import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { bigMigration, spawnCli } from '@dbops/test-utils'
import { createTestDatabase, migrateProject, waitFor } from './helpers.ts'

// These guard against hangs, not speed: the targets (under 5 s) are measured by bench/migrate-prepare.ts.
const HANG_GUARD_MS = 240_000
const SIGNAL_GUARD_MS = 30_000

const big = bigMigration(20 * 1024 * 1024)

/** Runs the CLI under /usr/bin/time; resolves with its exit code, output and peak RSS, or fails after `guardMs`. */
/** Runs the CLI under GNU time for its peak RSS; a run past `guardMs` is killed and fails. */
async function measured(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  guardMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; rssMb: number }> {
  const run = spawnCli(args, { cwd, env, prefix: ['/usr/bin/time', '-f', 'peak-rss-kb %M'] })
  let hung = false
  const guard = setTimeout(() => {
    hung = true
    run.child.kill('SIGKILL')
  }, guardMs)
  const { code, stdout, stderr } = await run.done
  clearTimeout(guard)
  if (hung)
    throw new Error(
      `dbops ${args.join(' ')} did not finish within ${guardMs / 1000}s (last output: ${stderr.slice(-500)})`,
    )
  const kb = Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1] ?? Number.NaN)
  return { code, stdout, stderr, rssMb: kb / 1024 }
}

test('a 20 MB file (a table and ~175k INSERTs) is prepared and applied, in under 300 MB of memory', async () => {
  const db = await createTestDatabase('mig_big')
  const p = await migrateProject(db, '{}', { 'migrations/0001_big.sql': big.sql })
  try {
    const r = await measured(['migrate', 'apply'], p.dir, { DATABASE_URL: db.url }, HANG_GUARD_MS)
    assert.is(r.code, 0, r.stderr.slice(-2000))
    assert.ok(r.rssMb < 300, `peak RSS ${r.rssMb.toFixed(0)} MB`)
    assert.is((await db.query(`select count(*)::int as n from items`)).rows[0]!.n, big.rows)
    assert.is(
      (await db.query(`select title from items where id = 7`)).rows[0]!.title,
      'Item number 7 in the catalogue; a café',
    )
  } finally {
    await p.remove()
    await db.drop()
  }
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} while a 20 MB file is being prepared: exit 130 promptly, nothing applied`, async () => {
    const db = await createTestDatabase(`mig_big_${signal.toLowerCase()}`)
    const p = await migrateProject(db, '{}', { 'migrations/0001_big.sql': big.sql })
    const run = spawnCli(['migrate', 'apply'], { cwd: p.dir, env: { DATABASE_URL: db.url } })
    try {
      let stderr = ''
      run.child.stderr!.on('data', (d) => (stderr += d))
      await waitFor(
        'the preparation to start',
        async () => stderr.includes('preparing migrations/0001_big.sql'),
        HANG_GUARD_MS,
      )
      run.child.kill(signal)
      const done = await Promise.race([
        run.done,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`no exit within ${SIGNAL_GUARD_MS / 1000}s of ${signal}`)),
            SIGNAL_GUARD_MS,
          ),
        ),
      ])
      assert.is(done.code, 130, done.stderr.slice(-1000))
      assert.is((await db.query(`select to_regclass('items') as t`)).rows[0]!.t, null)
    } finally {
      run.child.kill('SIGKILL')
      await run.done
      await p.remove()
      await db.drop()
    }
  })
}

test.run()
