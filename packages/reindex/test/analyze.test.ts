import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { createTestDatabase, flushStats, runCli, type TestDatabase } from '@dbops/test-utils'
import { reindexProject } from './fixtures.ts'

let db: TestDatabase
const env = () => ({ DATABASE_URL: db.url })

async function lastAnalyze(table: string): Promise<string | null> {
  const { rows } = await db.query<{ at: string | null }>(
    `select last_analyze::text as at from pg_stat_user_tables where relname = $1`,
    [table],
  )
  return rows[0]!.at
}

test.before(async () => {
  db = await createTestDatabase('reindex_analyze')
  for (const t of ['churned', 'quiet', 'dead']) {
    await db.query(
      `create table ${t} (id int primary key, v int not null default 0) with (autovacuum_enabled = off)`,
    )
    await db.query(`insert into ${t} (id) select g from generate_series(1, 10000) g`)
  }
  await flushStats(db)
  await db.query('analyze churned; analyze quiet; analyze dead')
  await db.query('update churned set v = 1 where id <= 3000') // 30% of rows modified since analyze
  await db.query('update quiet set v = 1 where id <= 10') // 0.1%: below the threshold
  await db.query('delete from dead where id <= 5000') // 5000 dead rows
  await flushStats(db)
})
test.after(async () => {
  await db?.drop()
})

const OPTIONS = `{ analyze: { minModified: 100, modifiedFraction: 0.1, vacuum: true, minDead: 2000, deadFraction: 0.2 } }`

test('--dry-run lists the tables past their thresholds and touches none', async () => {
  const project = await reindexProject(OPTIONS)
  try {
    const before = await lastAnalyze('churned')
    const r = await runCli(['reindex', 'analyze', '--dry-run'], { cwd: project.dir, env: env() })
    assert.is(r.code, 0, r.stderr)
    assert.match(
      r.stdout,
      /would analyze public\.churned: 3000 rows modified since the last analyze ≥ 1100/,
    )
    assert.match(r.stdout, /would vacuum analyze public\.dead: 5000 dead rows ≥ 4000/)
    assert.not.match(r.stdout, /quiet/)
    assert.is(await lastAnalyze('churned'), before)
  } finally {
    await project.remove()
  }
})

test('analyze refreshes what passed, vacuums dead rows, and skips a locked table with the reason', async () => {
  const project = await reindexProject(
    OPTIONS.replace('vacuum: true', "vacuum: true, lockTimeout: '300ms'"),
  )
  const blocker = new pg.Client({ connectionString: db.url })
  await blocker.connect()
  try {
    await blocker.query('begin')
    await blocker.query('lock table dead in share update exclusive mode')
    const quietBefore = await lastAnalyze('quiet')
    const r = await runCli(['reindex', 'analyze', '--json'], { cwd: project.dir, env: env() })
    assert.is(r.code, 0, r.stderr) // a lock timeout is a skip, not a failure
    const result = JSON.parse(r.stdout) as {
      tables: { table: string; action: string; status: string; reason?: string }[]
      analyzed: number
      skipped: number
    }
    const by = Object.fromEntries(result.tables.map((t) => [t.table, t]))
    assert.is(by.churned?.status, 'done')
    assert.is(by.dead?.status, 'skipped')
    assert.match(by.dead!.reason!, /lock not available within 300ms/)
    assert.is(by.quiet, undefined)
    assert.ok(await lastAnalyze('churned'))
    assert.is(await lastAnalyze('quiet'), quietBefore)
    await blocker.query('rollback')
    const again = await runCli(['reindex', 'analyze', '--json'], { cwd: project.dir, env: env() })
    const second = JSON.parse(again.stdout) as {
      tables: { table: string; action: string; status: string }[]
    }
    assert.equal(
      second.tables.map((t) => [t.table, t.action, t.status]),
      [['dead', 'vacuum analyze', 'done']],
    )
    const { rows } = await db.query<{ dead: string; vacuumed: string | null }>(
      `select n_dead_tup::text as dead, last_vacuum::text as vacuumed from pg_stat_user_tables where relname = 'dead'`,
    )
    assert.ok(rows[0]!.vacuumed, 'VACUUM ran')
  } finally {
    await blocker.end()
    await project.remove()
  }
})

test.run()
