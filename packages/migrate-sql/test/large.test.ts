import { spawn } from 'node:child_process'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { DBOPS_BIN } from '@dbops/test-utils'
import { bigMigration } from '@dbops/test-utils'
import { createTestDatabase, migrateProject, spawnCli, waitFor } from './helpers.ts'

// These guard against hangs, not speed: the targets (under 5 s) are measured by bench/migrate-prepare.ts.
const HANG_GUARD_MS = 240_000
const SIGNAL_GUARD_MS = 30_000

const big = bigMigration(20 * 1024 * 1024)

/** Runs the CLI under /usr/bin/time; resolves with its exit code, output and peak RSS, or fails after `guardMs`. */
function measured(
  args: string[],
  cwd: string,
  env: Record<string, string>,
  guardMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'peak-rss-kb %M', process.execPath, DBOPS_BIN, ...args],
      {
        cwd,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/root',
          NO_COLOR: '1',
          CI: '1',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const guard = setTimeout(() => {
      child.kill('SIGKILL')
      reject(
        new Error(
          `dbops ${args.join(' ')} did not finish within ${guardMs / 1000}s (last output: ${stderr.slice(-500)})`,
        ),
      )
    }, guardMs)
    child.on('close', (code) => {
      clearTimeout(guard)
      const kb = Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1] ?? NaN)
      resolve({ code, stdout, stderr, rssMb: kb / 1024 })
    })
  })
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
    const run = spawnCli(['migrate', 'apply'], p.dir, { DATABASE_URL: db.url })
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
