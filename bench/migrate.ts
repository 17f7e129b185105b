/**
 * Apply N small migrations (a table and an index each) to an empty database with:
 *   - dbops (`dbops migrate apply`: advisory lock, checksums, ledger, lint, one round trip per file)
 *   - node-pg-migrate 9 (`node-pg-migrate up`, SQL migrations, its defaults)
 *   - the floor: the same statements through one `psql` session, a transaction per file, no ledger
 * in the same run, alternating the order, median of RUNS. Then `dbops migrate status` on the
 * N applied files. Wall time of the whole command, peak RSS from /usr/bin/time.
 *
 *   node --import tsx bench/migrate.ts            (BENCH_MIGRATIONS=1000 BENCH_RUNS=5)
 *   BENCH_PSQL_LOOP=1 also times `psql -f` once per file in a shell loop (hand-written scripts).
 */
import { existsSync } from 'node:fs'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { makeWorkdir } from '@dbops/test-utils'
import { DBOPS_BIN, REPO_ROOT } from '@dbops/test-utils'
import { startCluster } from '@dbops/test-utils'
import { formatMs, median, type Timed, timed } from './lib/measure.ts'

const N = Number(process.env.BENCH_MIGRATIONS ?? 1000)
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const PSQL_LOOP = process.env.BENCH_PSQL_LOOP === '1'
const NPM_BIN = path.join(
  REPO_ROOT,
  'packages/migrate-sql/node_modules/node-pg-migrate/bin/node-pg-migrate.js',
)

const body = (i: number) => {
  const t = `t_${String(i).padStart(6, '0')}`
  return `create table ${t} (id bigint primary key, name text not null, created_at timestamptz not null default now());\ncreate index ${t}_name on ${t} (name);\n`
}

const cluster = await startCluster()
const admin = new pg.Client({ connectionString: cluster.url('postgres') })
await admin.connect()
const scratch = path.join(REPO_ROOT, '.tmp', `bench-migrate-${process.pid}`)
try {
  // The same N migrations in each tool's layout.
  const dbopsFiles: Record<string, string> = {
    'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nimport migrate from '@dbops/migrate-sql'\nexport default defineConfig({ connection: { url: env('DATABASE_URL') }, plugins: [migrate()], pipelines: { migrate: ['migrate:apply'] } })\n`,
  }
  for (let i = 1; i <= N; i++)
    dbopsFiles[`migrations/${String(i).padStart(6, '0')}_t.sql`] = body(i)
  const work = await makeWorkdir(dbopsFiles)
  await mkdir(path.join(scratch, 'npm/migrations'), { recursive: true })
  await mkdir(path.join(scratch, 'loop'), { recursive: true })
  let all = ''
  for (let i = 1; i <= N; i++) {
    const name = `${String(i).padStart(6, '0')}_t.sql`
    await writeFile(
      path.join(scratch, 'npm/migrations', name),
      `-- Up Migration\n${body(i)}\n-- Down Migration\n`,
    )
    if (PSQL_LOOP) await writeFile(path.join(scratch, 'loop', name), body(i))
    all += `begin;\n${body(i)}commit;\n`
  }
  await writeFile(path.join(scratch, 'all.sql'), all)
  const psql = path.join(cluster.binDir, 'psql')

  let dbCounter = 0
  const freshDb = async () => {
    const name = `bench_${process.pid}_${dbCounter++}`
    await admin.query(`create database ${name}`)
    return { name, url: cluster.url(name) }
  }
  const dropDb = (name: string) => admin.query(`drop database if exists ${name} with (force)`)

  const tools: Record<string, (url: string) => Promise<Timed>> = {
    dbops: (url) =>
      timed(process.execPath, [DBOPS_BIN, 'migrate', 'apply'], {
        cwd: work.dir,
        env: { DATABASE_URL: url, DBOPS_LOG_LEVEL: 'warn' },
      }),
    'node-pg-migrate': (url) =>
      timed(process.execPath, [NPM_BIN, 'up', '-m', 'migrations', '--no-verbose'], {
        cwd: path.join(scratch, 'npm'),
        env: { DATABASE_URL: url },
      }),
    'psql (floor)': (url) =>
      timed(
        psql,
        ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', path.join(scratch, 'all.sql')],
        { cwd: scratch, env: {} },
      ),
  }
  if (PSQL_LOOP)
    tools['psql -f per file'] = (url) =>
      timed(
        '/bin/sh',
        [
          '-c',
          `for f in loop/*.sql; do ${psql} -X -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -1 -f "$f" || exit 1; done`,
        ],
        { cwd: scratch, env: { DATABASE_URL: url } },
      )

  const names = Object.keys(tools)
  const results: Record<string, Timed[]> = Object.fromEntries(names.map((n) => [n, []]))
  let statusDb: string | undefined
  for (let run = 0; run < RUNS; run++) {
    const order = names.map((_, i) => names[(i + run) % names.length]!) // alternate who goes first
    for (const name of order) {
      const db = await freshDb()
      results[name]!.push(await tools[name]!(db.url))
      if (name === 'dbops' && run === RUNS - 1) statusDb = db.url
      else await dropDb(db.name)
    }
    process.stderr.write(
      `run ${run + 1}/${RUNS}: ${order.map((n) => `${n} ${formatMs(results[n]!.at(-1)!.ms)}`).join(', ')}\n`,
    )
  }
  // Check the work was really done, once.
  const check = new pg.Client({ connectionString: statusDb })
  await check.connect()
  const tables = (
    await check.query(`select count(*)::int as n from pg_tables where tablename like 't\\_%'`)
  ).rows[0].n
  const ledger = (await check.query(`select count(*)::int as n from dbops_migrations`)).rows[0].n
  await check.end()
  if (tables !== N || ledger !== N)
    throw new Error(`dbops applied ${tables} tables / ${ledger} ledger rows, expected ${N}`)

  const status: Timed[] = []
  for (let i = 0; i < RUNS; i++)
    status.push(
      await timed(process.execPath, [DBOPS_BIN, 'migrate', 'status', '--json'], {
        cwd: work.dir,
        env: { DATABASE_URL: statusDb! },
      }),
    )

  const floor = median(results['psql (floor)']!.map((r) => r.ms))
  const npmMs = median(results['node-pg-migrate']!.map((r) => r.ms))
  console.log(
    `\nApply ${N} migrations (create table + create index each) to an empty database; median of ${RUNS}, alternating order`,
  )
  console.log(
    `${'tool'.padEnd(18)} ${'median'.padStart(9)} ${'min'.padStart(9)} ${'max'.padStart(9)} ${'vs floor'.padStart(9)} ${'peak RSS'.padStart(9)} ${'client CPU'.padStart(11)}`,
  )
  for (const name of names) {
    const ms = results[name]!.map((r) => r.ms)
    const m = median(ms)
    console.log(
      `${name.padEnd(18)} ${formatMs(m).padStart(9)} ${formatMs(Math.min(...ms)).padStart(9)} ${formatMs(Math.max(...ms)).padStart(9)} ${(m / floor).toFixed(2).padStart(8)}x ${`${Math.round(median(results[name]!.map((r) => r.rssKb)) / 1024)} MB`.padStart(9)} ${`${median(results[name]!.map((r) => r.cpuS)).toFixed(2)} s`.padStart(11)}`,
    )
  }
  const dbopsMs = median(results.dbops!.map((r) => r.ms))
  console.log(
    `\ndbops / node-pg-migrate: ${(dbopsMs / npmMs).toFixed(2)} (target <= 0.90)   dbops / floor: ${(dbopsMs / floor).toFixed(2)} (target <= 1.15)`,
  )
  console.log(
    `dbops migrate status on ${N} applied files: median ${formatMs(median(status.map((s) => s.ms)))} (target < 1 s), client CPU ${median(status.map((s) => s.cpuS)).toFixed(2)} s, peak RSS ${Math.round(median(status.map((s) => s.rssKb)) / 1024)} MB`,
  )
  console.log(
    `load average during the run: ${(await import('node:os'))
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(
        ' ',
      )} on ${(await import('node:os')).cpus().length} CPUs (wall times are only comparable within one run)`,
  )
  await work.remove()
} finally {
  await admin.end().catch(() => {})
  await cluster.stop()
  if (existsSync(scratch)) await rm(scratch, { recursive: true, force: true })
}
