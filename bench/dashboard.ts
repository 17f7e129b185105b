/**
 * bench/dashboard.ts — the dashboard's page and API on a year-sized history: 1,000 backup
 * sets, 10,000 scheduled runs and 90 days of health results every 15 minutes for 33 checks
 * (285,120 rows), against what a user would otherwise run for the same answers:
 *
 * - pghero-style: the page's SQL run directly on every load (latest result per check, the
 *   bucketed history, the runs of the window), timed on a warm connection;
 * - `dbops backups list --json`: every manifest read from storage, once per look.
 *
 * The dashboard answers from what its collector last read, so its figures are per request
 * (median and worst of 20, sequential, over HTTP on 127.0.0.1); the cold read it does at
 * start and every refresh is timed too (DBOPS_LOG_LEVEL=debug prints it).
 *
 *   node --import tsx bench/dashboard.ts [--sets 1000] [--runs 10000] [--days 90]
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import pg from 'pg'
import { CREATE_SCHEMA } from '../packages/core/src/scheduler/sql.ts'
import { CREATE_HISTORY } from '../packages/health/src/history/sql.ts'
import { HEALTH_NOW, HEALTH_SERIES } from '../packages/dashboard/src/collect/health.ts'
import { RUNS } from '../packages/dashboard/src/collect/runs.ts'
import { DBOPS_BIN, makeWorkdir, runCli, startCluster } from '@dbops/test-utils'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const SETS = arg('--sets', 1000)
const RUN_COUNT = arg('--runs', 10_000)
const DAYS = arg('--days', 90)
const CHECKS = 33
const REQUESTS = 20

const cluster = await startCluster()
const work = await makeWorkdir()
try {
  const admin = new pg.Client({ connectionString: cluster.url('postgres') })
  await admin.connect()
  await admin.query('create database bench_dashboard')
  await admin.end()
  const url = cluster.url('bench_dashboard')
  const db = new pg.Client({ connectionString: url })
  await db.connect()

  process.stdout.write(
    `generating ${RUN_COUNT} runs, ${DAYS} days x 96 x ${CHECKS} health results, ${SETS} backup sets...\n`,
  )
  await db.query(CREATE_SCHEMA)
  await db.query(`begin; ${CREATE_HISTORY}; commit`)
  await db.query(
    `
    insert into dbops.runs (id, schedule, tick, pipelines, tags, status, queued_at, started_at, ended_at, duration_ms, error, host, pid, watcher, lease_until, steps)
    select gen_random_uuid(), s.name, t, array[s.name], '{}', case when g % 50 = 0 then 'failed' else 'success' end, t, t, t + make_interval(secs => d / 1000.0), d,
           case when g % 50 = 0 then 'pgdump:dump: pg_dump exited 1' end, 'bench', 1, 'bench:1', t + interval '1 minute',
           jsonb_build_array(jsonb_build_object('id', s.name || ':step', 'title', 'a step', 'status', 'success', 'durationMs', d, 'figures', jsonb_build_object('bytes', g * 1000)))
      from generate_series(1, $1::int) g,
           lateral (select now() - make_interval(secs => ($2::int * 86400.0) * g / $1::int) as t, 200 + (g * 7919) % 60000 as d, (array['nightly','hourly','health','optimize'])[1 + g % 4] as name) s`,
    [RUN_COUNT, DAYS],
  )
  await db.query(`
    insert into dbops.health_checks (database, check_id, title, unit, direction, warning, critical, hint, updated_at)
    select 'bench_dashboard', 'check_' || c, 'check number ' || c, 'percent', 'above', 80, 90, 'a hint', date_trunc('minute', now())
      from generate_series(1, ${CHECKS}) c`)
  await db.query(`
    insert into dbops.health_results (at, database, check_id, status, value, message)
    select date_trunc('minute', now()) - make_interval(mins => 15 * i), 'bench_dashboard', 'check_' || c,
           case when (i + c) % 97 = 0 then 'critical' when (i + c) % 13 = 0 then 'warning' else 'ok' end, (i * c) % 100, 'a message'
      from generate_series(0, ${DAYS * 96 - 1}) i, generate_series(1, ${CHECKS}) c`)
  await db.query('analyze')
  const healthRows = Number(
    (await db.query('select count(*) as n from dbops.health_results')).rows[0].n,
  )

  const backups = path.join(work.dir, 'backups', 'bench_dashboard')
  for (let i = 0; i < SETS; i++) {
    const started = new Date(Date.now() - (DAYS * 86_400_000 * (i + 1)) / SETS)
    const id = `${started
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}-${i.toString(16).padStart(4, '0')}`
    const body = `dump ${i}`
    const manifest = {
      manifestVersion: 1,
      id,
      database: 'bench_dashboard',
      startedAt: started.toISOString(),
      finishedAt: new Date(started.getTime() + 30_000 + i * 10).toISOString(),
      serverVersion: '15.0',
      pgDumpVersion: '15.0',
      format: 'custom',
      compression: { algorithm: 'zstd' },
      encryption: null,
      objects: [
        {
          name: 'dump.pgdump.zst',
          role: 'dump',
          size: 1_000_000 + i * 1000,
          sha256: createHash('sha256').update(body).digest('hex'),
        },
      ],
      tables: Array.from({ length: 20 }, (_, t) => ({
        schema: 'public',
        name: `table_${t}`,
        rows: t * 1000 + i,
        exact: true,
      })),
      tags: ['daily'],
      verification: [
        {
          status: 'verified',
          at: started.toISOString(),
          method: i % 7 === 0 ? 'restore' : 'archive-list',
        },
      ],
    }
    await mkdir(path.join(backups, id), { recursive: true })
    await writeFile(path.join(backups, id, 'dump.pgdump.zst'), body)
    await writeFile(path.join(backups, id, 'manifest.json'), JSON.stringify(manifest, null, 2))
  }
  await work.write(
    'dbops.config.ts',
    `import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
import dashboard from '@dbops/dashboard'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  storage: { local: { dir: './backups' } },
  plugins: [pgdump(), dashboard()],
  schedules: { nightly: { cron: '0 2 * * *', run: 'retention:apply' }, hourly: { cron: '0 * * * *', run: 'retention:apply' } },
})
`,
  )
  const env = { DATABASE_URL: url }

  // ---- dbops dashboard ----
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [DBOPS_BIN, 'dashboard', '--port', '0', '--since', `${DAYS}d`, '--refresh', '5'],
    {
      cwd: work.dir,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DBOPS_LOG_LEVEL: 'debug', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const base = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
      const m = /on (http:\/\/\S+\/)/.exec(out)
      if (m) resolve(m[1]!)
    })
    child.on('close', (code) => reject(new Error(`dashboard exited ${code}: ${out}${stderr}`)))
  })
  const readyMs = performance.now() - started
  const firstRead = /read every source in (\d+) ms/.exec(stderr)?.[1]
  const anyRun = ((await (await fetch(`${base}api/runs?limit=1`)).json()) as any).runs[0].id
  const anySet = ((await (await fetch(`${base}api/backups`)).json()) as any).sets[0]
  const endpoints = [
    '',
    'api/overview',
    'api/health',
    'api/health/history',
    'api/backups',
    'api/runs?limit=20000',
    `api/runs/${anyRun}`,
    `api/backups/local/${anySet.id}`,
    'api/reindex',
  ]
  const rows: [string, string, string, string][] = []
  for (const p of endpoints) {
    const times: number[] = []
    let bytes = 0
    for (let i = 0; i < REQUESTS; i++) {
      const t = performance.now()
      const res = await fetch(base + p)
      bytes = (await res.arrayBuffer()).byteLength
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    rows.push([
      `GET /${p}`,
      `${times[times.length >> 1]!.toFixed(1)} ms`,
      `${times.at(-1)!.toFixed(1)} ms`,
      `${(bytes / 1024).toFixed(0)} KB`,
    ])
  }
  // A few refreshes while idle: the cost the collector puts on the database every refreshSeconds.
  const refreshes = await new Promise<number[]>((resolve) => {
    const seen = () =>
      [...stderr.matchAll(/read every source in (\d+) ms/g)].map((m) => Number(m[1]))
    const timer = setInterval(() => {
      if (seen().length < 4) return
      clearInterval(timer)
      resolve(seen().slice(1))
    }, 200)
  })
  child.kill('SIGINT')

  // ---- the baselines ----
  const since = new Date(Date.now() - DAYS * 86_400_000)
  const sql: [string, string, unknown[]][] = [
    ['latest result per check (+ not-OK since)', HEALTH_NOW, []],
    [
      'health history, 400 buckets per check',
      HEALTH_SERIES,
      [since, Math.ceil((DAYS * 86400) / 400)],
    ],
    [`runs of the window (${RUN_COUNT})`, RUNS(true), [since, null, [], 50_000]],
  ]
  const baseline: [string, string, string][] = []
  for (const [name, text, params] of sql) {
    const times: number[] = []
    for (let i = 0; i < 5; i++) {
      const t = performance.now()
      await db.query(text, params)
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    baseline.push([`SQL: ${name}`, `${times[2]!.toFixed(1)} ms`, `${times[4]!.toFixed(1)} ms`])
  }
  const lists: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    const r = await runCli(['backups', 'list', '--json'], { cwd: work.dir, env })
    if (r.code !== 0) throw new Error(r.stderr)
    lists.push(performance.now() - t)
  }
  lists.sort((a, b) => a - b)
  baseline.push([
    `dbops backups list --json (${SETS} sets)`,
    `${lists[1]!.toFixed(0)} ms`,
    `${lists[2]!.toFixed(0)} ms`,
  ])
  await db.end()

  process.stdout.write(
    `\ndata: ${SETS} backup sets, ${RUN_COUNT} runs, ${healthRows} health results (${DAYS} days x 96 x ${CHECKS} checks)\n`,
  )
  process.stdout.write(
    `\ndbops dashboard: ready (first read of every source included) in ${readyMs.toFixed(0)} ms; first read ${firstRead} ms; later refreshes ${refreshes.join(', ')} ms\n`,
  )
  process.stdout.write(
    `${'request'.padEnd(44)} ${'median'.padStart(10)} ${'worst'.padStart(10)} ${'size'.padStart(8)}\n`,
  )
  for (const r of rows)
    process.stdout.write(
      `${r[0].padEnd(44)} ${r[1].padStart(10)} ${r[2].padStart(10)} ${r[3].padStart(8)}\n`,
    )
  process.stdout.write(`\nbaselines (what each look costs without the dashboard):\n`)
  for (const r of baseline)
    process.stdout.write(`${r[0].padEnd(44)} ${r[1].padStart(10)} ${r[2].padStart(10)}\n`)
  const worst = Math.max(...rows.map((r) => Number.parseFloat(r[2])))
  process.stdout.write(
    `\ntarget: page and API within 200 ms — worst answer ${worst.toFixed(1)} ms: ${worst <= 200 ? 'met' : 'NOT met'}\n`,
  )
} finally {
  await work.remove()
  await cluster.stop()
}
