// dbops watch with the real backup plugin: tags reach the manifest, and SIGTERM during a
// pg_dump stops pg_dump and leaves nothing half-written behind.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, makeWorkdir, type TestDatabase } from '@dbops/test-utils'
import { freePort, resetDatabase, spawnWatch, until } from './watch-helpers.ts'

let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('watch_backup')
  await db.query(
    `create table items (id int primary key, name text); insert into items select g, md5(g::text) from generate_series(1, 5000) g`,
  )
})
test.after(async () => {
  await db.drop()
})

const CONFIG = `import { defineConfig, env } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  storage: { local: { dir: './backups' } },
  plugins: [pgdump({ compression: 'gzip' })],
  pipelines: { backup: ['pgdump:dump'] },
  schedules: { weekly: { cron: '* * * * * *', run: 'backup', tags: ['weekly'] } },
})
`

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((e) =>
    statSync(path.join(dir, e)).isDirectory()
      ? filesUnder(path.join(dir, e)).map((f) => path.join(e, f))
      : [e],
  )
}

test("a scheduled backup carries the schedule's tags into its manifest; its size is a metric", async () => {
  await resetDatabase(db)
  const work = await makeWorkdir({ 'dbops.config.ts': CONFIG })
  const port = await freePort()
  const w = spawnWatch(['--metrics-port', String(port)], {
    cwd: work.dir,
    env: { DATABASE_URL: db.url },
  })
  try {
    const done = await w.waitFor((e) => e.event === 'run.finished', 15_000)
    assert.is(done.status, 'success', done.error)
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
    const bytes = Number(
      /^dbops_task_bytes\{schedule="weekly",task="pgdump:dump"\} (\d+)$/m.exec(metrics)?.[1],
    )
    assert.ok(
      bytes > 1000,
      metrics
        .split('\n')
        .filter((l) => l.startsWith('dbops_task'))
        .join('\n'),
    )
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    const manifests = filesUnder(path.join(work.dir, 'backups')).filter((f) =>
      f.endsWith('manifest.json'),
    )
    assert.ok(manifests.length >= 1)
    const manifest = JSON.parse(
      readFileSync(path.join(work.dir, 'backups', manifests[0]!), 'utf8'),
    ) as { tags: string[] }
    assert.equal(manifest.tags, ['weekly'])
  } finally {
    w.kill('SIGKILL')
    await work.remove()
  }
})

test('SIGTERM during a pg_dump: aborted after the shutdown timeout, pg_dump stopped, nothing stored, exit 0', async () => {
  await resetDatabase(db)
  const work = await makeWorkdir({ 'dbops.config.ts': CONFIG })
  // Hold a lock pg_dump needs, so the dump is in flight for as long as the test wants.
  const locker = new pg.Client({ connectionString: db.url })
  await locker.connect()
  await locker.query('begin; lock table items in access exclusive mode')
  const dumping = async () =>
    Number(
      (
        await db.query<{ n: string }>(
          `select count(*) as n from pg_stat_activity where datname = $1 and wait_event_type = 'Lock' and query ilike 'lock table%'`,
          [db.name],
        )
      ).rows[0]!.n,
    )
  const w = spawnWatch(['--shutdown-timeout', '500ms'], {
    cwd: work.dir,
    env: { DATABASE_URL: db.url },
  })
  try {
    const started = await w.waitFor((e) => e.event === 'run.started', 10_000)
    await until(async () => (await dumping()) > 0, 8000, 'pg_dump waiting on the lock')
    w.kill('SIGTERM')
    assert.is((await w.exited).code, 0, w.output())
    const finished = w
      .events()
      .find((e) => e.event === 'run.finished' && e.runId === started.runId)!
    assert.is(finished.status, 'aborted')
    await until(async () => (await dumping()) === 0, 3000, "pg_dump's session to end")
    assert.equal(
      filesUnder(path.join(work.dir, 'backups')),
      [],
      'something was left in the backup directory',
    )
    const { rows } = await db.query<{ status: string }>(
      `select status from dbops.runs where id = $1`,
      [started.runId],
    )
    assert.is(rows[0]!.status, 'aborted')
  } finally {
    w.kill('SIGKILL')
    await locker.query('rollback').catch(() => {})
    await locker.end()
    await work.remove()
  }
})

test.run()
