/**
 * bench/health.ts — the full dbops health catalog on a database with many tables, against
 * what a user would otherwise run: check_postgres (Debian's check-postgres package, installed
 * with apt-get when missing) running the overlapping actions one after another, as a Nagios
 * or cron setup would.
 *
 * The database: N tables, each with a serial primary key and one secondary index (2N
 * indexes, N sequences), every tenth with rows, then ANALYZE. Plus a few real findings
 * (a redundant index, a foreign key without an index) so both tools have work to report.
 *
 *   node --import tsx bench/health.ts [--tables 10000] [--runs 3]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import pg from 'pg'
import { DBOPS_BIN, makeWorkdir, startCluster } from '@dbops/test-utils'
import { median } from './lib/measure.ts'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const TABLES = arg('--tables', 10_000)
const RUNS = arg('--runs', 3)
const BATCH = 250

function ensureCheckPostgres(): string | null {
  const found = () =>
    ['/usr/bin/check_postgres', '/usr/bin/check_postgres.pl'].find((p) => existsSync(p)) ?? null
  if (found()) return found()
  if (process.getuid?.() !== 0) return null
  process.stdout.write('installing check-postgres from Debian for the baseline...\n')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  let r = spawnSync('apt-get', ['install', '-y', '-qq', 'check-postgres'], { stdio: 'ignore', env })
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
    r = spawnSync('apt-get', ['install', '-y', '-qq', 'check-postgres'], { stdio: 'ignore', env })
  }
  return found()
}

/** Runs a command; wall time, exit code, first line of stdout and peak RSS (GNU time when present). */
function timed(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{
  ms: number
  code: number | null
  stdout: string
  stderr: string
  rssKb: number | null
}> {
  const gnuTime = existsSync('/usr/bin/time')
  const [bin, argv] = gnuTime ? ['/usr/bin/time', ['-f', '__RSS_KB=%M', cmd, ...args]] : [cmd, args]
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(bin, argv, { cwd: options.cwd, env: options.env ?? process.env })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const rss = /__RSS_KB=(\d+)/.exec(stderr)
      resolve({
        ms: performance.now() - started,
        code,
        stdout,
        stderr: stderr.replace(/__RSS_KB=\d+\n?/, ''),
        rssKb: rss ? Number(rss[1]) : null,
      })
    })
  })
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`

const cluster = await startCluster()
const admin = new pg.Client({ connectionString: cluster.url('postgres') })
try {
  await admin.connect()
  await admin.query('create database bench_health')
  const db = new pg.Client({ connectionString: cluster.url('bench_health') })
  await db.connect()
  const built = performance.now()
  process.stdout.write(
    `creating ${TABLES.toLocaleString('en-US')} tables with ${(2 * TABLES).toLocaleString('en-US')} indexes...\n`,
  )
  for (let from = 1; from <= TABLES; from += BATCH) {
    const to = Math.min(TABLES, from + BATCH - 1)
    await db.query(`do $$ begin
      for i in ${from}..${to} loop
        execute format('create table t%s (id serial primary key, account_id int, note text)', i);
        execute format('create index t%s_account on t%s (account_id)', i, i);
        if i % 10 = 0 then execute format('insert into t%s (account_id, note) select g %% 50, md5(g::text) from generate_series(1, 200) g', i); end if;
      end loop; end $$`)
  }
  await db.query(
    `create index t1_account_dup on t1 (account_id, note); create table orders (id int primary key, t1_id int references t1 (id))`,
  )
  await db.query('analyze')
  const { rows: counts } = await db.query<{
    tables: number
    indexes: number
    classes: number
  }>(`select
    (select count(*) from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace)::int as tables,
    (select count(*) from pg_class where relkind = 'i' and relnamespace = 'public'::regnamespace)::int as indexes,
    (select count(*) from pg_class)::int as classes`)
  await db.end()
  const c = counts[0]!
  process.stdout.write(
    `built in ${s(performance.now() - built)}: ${c.tables} tables, ${c.indexes} indexes, ${c.classes} rows in pg_class\n\n`,
  )

  // dbops: the whole catalog, as `dbops health` a cron or Nagios would run
  const work = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport health from '@dbops/health'\nexport default defineConfig({ connection: { url: process.env.DATABASE_URL }, plugins: [health()] })\n`,
  })
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DATABASE_URL: cluster.url('bench_health'),
    NO_COLOR: '1',
  }
  const dbopsRuns = []
  let report:
    | {
        durationMs: number
        status: string
        counts: Record<string, number>
        checks: { check: string; status: string; durationMs: number; message: string }[]
      }
    | undefined
  for (let i = 0; i < RUNS; i++) {
    const r = await timed(process.execPath, [DBOPS_BIN, 'health', '--format', 'json'], {
      cwd: work.dir,
      env,
    })
    report = JSON.parse(r.stdout)
    dbopsRuns.push({ ms: r.ms, rssKb: r.rssKb, inProcessMs: report!.durationMs })
  }
  // Worst case for the estimates: every relation a bloat candidate (the default only estimates
  // relations at least as large as the warning threshold, 100 MB), as check_postgres bloat does.
  await work.write(
    'dbops.config.ts',
    `import { defineConfig } from 'dbops'\nimport health from '@dbops/health'\nexport default defineConfig({ connection: { url: process.env.DATABASE_URL }, plugins: [health({ checks: { index_bloat: { warning: '1kB', minPercent: 0 }, table_bloat: { warning: '1kB', minPercent: 0 } } })] })\n`,
  )
  const everything = await timed(process.execPath, [DBOPS_BIN, 'health', '--format', 'json'], {
    cwd: work.dir,
    env,
  })
  const everyReport = JSON.parse(everything.stdout) as NonNullable<typeof report>
  const bloatMs = everyReport.checks
    .filter((x) => x.check.endsWith('_bloat'))
    .map((x) => `${x.check} ${x.durationMs} ms (${x.message.split(';')[0]})`)
  await work.remove()
  const slowest = [...report!.checks].sort((a, b) => b.durationMs - a.durationMs).slice(0, 5)

  // check_postgres: the overlapping actions, one process each, one after another
  const checkPostgres = ensureCheckPostgres()
  const ACTIONS: [string, string[], string][] = [
    ['connection', [], 'connection'],
    ['backends', [], 'connections'],
    ['txn_idle', ['--warning=5 minutes', '--critical=30 minutes'], 'idle_in_transaction'],
    ['query_time', ['--warning=1 minute', '--critical=5 minutes'], 'long_queries'],
    ['txn_time', ['--warning=15 minutes', '--critical=1 hour'], 'long_transactions'],
    // lockwait (blocked queries) exists only from check_postgres 2.26; Debian 12 ships 2.25
    ['prepared_txns', [], 'prepared_transactions'],
    ['txn_wraparound', [], 'xid_wraparound'],
    ['autovac_freeze', [], 'xid_wraparound'],
    ['sequence', [], 'sequences'],
    ['replication_slots', ['--warning=1GB', '--critical=10GB'], 'replication_slots'],
    ['hitratio', ['--warning=98%', '--critical=90%'], 'cache_hit_ratio'],
    ['commitratio', ['--warning=90%', '--critical=75%'], 'rollback_ratio'],
    ['disabled_triggers', [], 'disabled_triggers'],
    ['bloat', [], 'index_bloat + table_bloat'],
    ['last_vacuum', [], 'vacuum'],
    ['last_analyze', [], 'analyze'],
    ['locks', [], '(lock counts)'],
  ]
  const baseline: {
    action: string
    ms: number
    code: number | null
    line: string
    maps: string
    rssKb: number | null
  }[] = []
  if (checkPostgres) {
    const cpEnv = {
      ...process.env,
      PGHOST: '127.0.0.1',
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
      PGDATABASE: 'bench_health',
    }
    for (const [action, extra, maps] of ACTIONS) {
      const r = await timed(
        checkPostgres,
        [`--action=${action}`, '--dbname=bench_health', '--timeout=120', ...extra],
        { env: cpEnv },
      )
      baseline.push({
        action,
        ms: r.ms,
        code: r.code,
        line: (r.stdout || r.stderr).split('\n')[0]!.slice(0, 110),
        maps,
        rssKb: r.rssKb,
      })
    }
  }

  const dbopsMs = median(dbopsRuns.map((r) => r.ms))
  const dbopsIn = median(dbopsRuns.map((r) => r.inProcessMs))
  const dbopsRss = Math.max(...dbopsRuns.map((r) => r.rssKb ?? 0))
  process.stdout.write(
    `dbops health — ${report!.checks.length} checks (${Object.entries(report!.counts)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ')}), median of ${RUNS} runs\n`,
  )
  process.stdout.write(
    `  wall (process start to exit): ${s(dbopsMs)}   checks in-process: ${s(dbopsIn)}   peak RSS: ${dbopsRss ? `${Math.round(dbopsRss / 1024)} MB` : 'n/a'}\n`,
  )
  process.stdout.write(
    `  slowest checks: ${slowest.map((x) => `${x.check} ${x.durationMs} ms`).join(', ')}\n`,
  )
  process.stdout.write(
    `  every relation estimated for bloat: wall ${s(everything.ms)}, in-process ${s(everyReport.durationMs)}; ${bloatMs.join(', ')}\n`,
  )
  const notOk = report!.checks.filter((x) => x.status !== 'ok' && x.status !== 'skipped')
  for (const x of notOk)
    process.stdout.write(`  ${x.status.toUpperCase()} ${x.check}: ${x.message.slice(0, 100)}\n`)
  if (checkPostgres) {
    const total = baseline.reduce((n, b) => n + b.ms, 0)
    process.stdout.write(
      `\ncheck_postgres ${execFileSync(checkPostgres, ['--version'], { encoding: 'utf8' }).trim()} — ${baseline.length} actions one after another\n`,
    )
    for (const b of baseline)
      process.stdout.write(
        `  ${b.action.padEnd(18)} ${s(b.ms).padStart(8)}  exit ${b.code}  ${b.line}\n`,
      )
    process.stdout.write(
      `  total wall: ${s(total)}   peak RSS of one action: ${Math.round(Math.max(...baseline.map((b) => b.rssKb ?? 0)) / 1024)} MB\n`,
    )
    process.stdout.write(`\nside by side (${c.tables} tables, ${c.indexes} indexes):\n`)
    process.stdout.write(
      `  dbops health (${report!.checks.length} checks, one process):        ${s(dbopsMs)}\n`,
    )
    process.stdout.write(
      `  check_postgres (${baseline.length} overlapping actions):         ${s(total)}\n`,
    )
    process.stdout.write(
      `  target: full catalog under 3 s wall -> ${dbopsMs < 3000 ? 'met' : 'NOT met'}\n`,
    )
  } else {
    process.stdout.write(
      '\ncheck_postgres is not installed and could not be installed (not root?): baseline skipped\n',
    )
  }
} finally {
  await admin.end().catch(() => {})
  await cluster.stop()
}
