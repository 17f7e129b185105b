/**
 * bench/reindex.ts — rebuilding a bloated index of a few hundred MB online:
 * `dbops reindex apply` against what a user would otherwise run, `reindexdb --concurrently`
 * and `pg_repack --index` (installed from Debian's postgresql-15-repack when possible).
 *
 * Each tool gets its own identical table (same rows, same deletes, same VACUUM) in its own
 * schema, so each starts from the same bloat. While each rebuild runs, a writer keeps
 * inserting and updating rows of that table in autocommit; its slowest statement is how
 * long the tool blocked writes.
 *
 * Installing postgresql-15-repack as root also brings postgresql-15, its client and libpq to the
 * same Debian security release (15.18 → 15.20 on the reference machine): a minor upgrade, but a
 * change to the machine; install it yourself beforehand if that matters.
 *
 *   node --import tsx bench/reindex.ts [--rows 4000000]
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { DBOPS_BIN, makeWorkdir, startCluster } from '@dbops/test-utils'

const rowsArg = process.argv.indexOf('--rows')
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 4_000_000
const KEEP_EVERY = 5 // keep 1 row in 5: 80% of the index becomes dead space

interface Outcome {
  tool: string
  wallMs: number
  beforeBytes: number
  afterBytes: number
  peakRssKb: number | null
  writes: number
  maxWriteMs: number
  p99WriteMs: number
  note?: string
  output?: string
}

const mb = (b: number) => `${(b / 1024 ** 2).toFixed(1)} MB`

function ensurePgRepack(binDir: string): string | null {
  const candidates = [path.join(binDir, 'pg_repack'), '/usr/bin/pg_repack']
  const found = () => candidates.find((c) => existsSync(c)) ?? null
  if (found()) return found()
  if (process.getuid?.() !== 0) return null
  process.stdout.write(
    'installing postgresql-15-repack from Debian for the pg_repack baseline (apt may also upgrade postgresql-15 to the same security release)...\n',
  )
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env })
  spawnSync('apt-get', ['install', '-y', '-qq', 'postgresql-15-repack'], { stdio: 'ignore', env })
  return found()
}

async function bloatedTable(admin: pg.Client, schema: string): Promise<void> {
  await admin.query(`create schema ${schema}`)
  await admin.query(
    `create table ${schema}.events (id bigint primary key, email text not null, n int not null default 0) with (autovacuum_enabled = off)`,
  )
  await admin.query(
    `insert into ${schema}.events (id, email) select g, md5(g::text) || '@example.com' from generate_series(1, ${ROWS}) g`,
  )
  await admin.query(`create index events_email_idx on ${schema}.events (email)`)
  await admin.query(`delete from ${schema}.events where id % ${KEEP_EVERY} <> 0`)
  await admin.query(`vacuum ${schema}.events`) // dead rows gone from the heap; the index keeps its pages
}

async function indexBytes(admin: pg.Client, schema: string): Promise<number> {
  const { rows } = await admin.query<{ b: string }>(
    `select pg_relation_size('${schema}.events_email_idx') as b`,
  )
  return Number(rows[0]!.b)
}

/** A writer hammering the table until stopped; the slowest statement is the blocking time. */
function startWriter(url: string, schema: string) {
  const client = new pg.Client({ connectionString: url })
  const latencies: number[] = []
  let running = true
  let failure: unknown
  // Errors are kept, not thrown here: an unhandled rejection would exit before the cluster is stopped.
  const done = (async () => {
    await client.connect()
    let id = ROWS + 1
    while (running) {
      const t = performance.now()
      await client.query(
        `insert into ${schema}.events (id, email) values ($1::bigint, md5($1::text))`,
        [id++],
      )
      await client.query(`update ${schema}.events set n = n + 1 where id = $1`, [
        KEEP_EVERY * (1 + (id % 1000)),
      ])
      latencies.push(performance.now() - t)
    }
  })()
    .catch((error) => (failure = error))
    .finally(() => client.end().catch(() => {}))
  return {
    async stop() {
      running = false
      await done
      if (failure) throw new Error(`the concurrent writer failed: ${(failure as Error).message}`)
      const sorted = [...latencies].sort((a, b) => a - b)
      return {
        writes: latencies.length,
        max: sorted.at(-1) ?? 0,
        p99: sorted[Math.floor(sorted.length * 0.99)] ?? 0,
      }
    },
  }
}

function timed(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<{ ms: number; code: number | null; rssKb: number | null; output: string }> {
  return new Promise((resolve) => {
    const started = performance.now()
    const useTime = existsSync('/usr/bin/time')
    const child = useTime
      ? spawn('/usr/bin/time', ['-f', 'RSS_KB=%M', cmd, ...args], { env, cwd })
      : spawn(cmd, args, { env, cwd })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('close', (code) => {
      const rss = /RSS_KB=(\d+)/.exec(output)
      resolve({ ms: performance.now() - started, code, rssKb: rss ? Number(rss[1]) : null, output })
    })
  })
}

async function runTool(
  tool: string,
  schema: string,
  url: string,
  admin: pg.Client,
  command: () => Promise<{ ms: number; code: number | null; rssKb: number | null; output: string }>,
): Promise<Outcome> {
  const beforeBytes = await indexBytes(admin, schema)
  await admin.query('checkpoint')
  const writer = startWriter(url, schema)
  await new Promise((r) => setTimeout(r, 300))
  const r = await command()
  const w = await writer.stop()
  if (r.code !== 0) throw new Error(`${tool} exited ${r.code}:\n${r.output}`)
  const afterBytes = await indexBytes(admin, schema)
  return {
    tool,
    wallMs: r.ms,
    beforeBytes,
    afterBytes,
    peakRssKb: r.rssKb,
    writes: w.writes,
    maxWriteMs: w.max,
    p99WriteMs: w.p99,
    output: r.output,
  }
}

const cluster = await startCluster()
const dbName = 'bench_reindex'
const admin0 = new pg.Client({ connectionString: cluster.url('postgres') })
await admin0.connect()
await admin0.query(`create database ${dbName}`)
await admin0.end()
const url = cluster.url(dbName)
const admin = new pg.Client({ connectionString: url })
await admin.connect()
const workdir = await makeWorkdir({
  'dbops.config.ts': `import { defineConfig, env } from 'dbops'
import reindex from '@dbops/reindex'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  plugins: [reindex({ schemas: ['s_dbops'] })],
  pipelines: { optimize: ['reindex:plan', 'reindex:apply', 'reindex:analyze'] },
})
`,
})
const outcomes: Outcome[] = []
try {
  const repack = ensurePgRepack(cluster.binDir)
  const schemas = ['s_dbops', 's_reindexdb', ...(repack ? ['s_repack'] : [])]
  process.stdout.write(
    `building ${schemas.length} identical tables of ${ROWS.toLocaleString()} rows, then deleting ${100 - 100 / KEEP_EVERY}% of them...\n`,
  )
  const t0 = performance.now()
  for (const s of schemas) await bloatedTable(admin, s)
  process.stdout.write(
    `  done in ${((performance.now() - t0) / 1000).toFixed(1)}s; index ${mb(await indexBytes(admin, 's_dbops'))} each\n`,
  )
  const libpq = {
    ...process.env,
    PGHOST: cluster.host,
    PGPORT: String(cluster.port),
    PGUSER: cluster.user,
    PGDATABASE: dbName,
  }

  const dbops = await runTool('dbops reindex apply', 's_dbops', url, admin, () =>
    timed(
      process.execPath,
      [DBOPS_BIN, 'reindex', 'apply', '--json'],
      { PATH: process.env.PATH, HOME: process.env.HOME, CI: '1', NO_COLOR: '1', DATABASE_URL: url },
      workdir.dir,
    ),
  )
  const out = dbops.output ?? ''
  const report = JSON.parse(out.slice(out.indexOf('{'), out.lastIndexOf('}') + 1)) as {
    durationMs: number
    indexes: { durationMs: number; reindexMs: number; status: string }[]
  }
  dbops.note = `dbops: ${(report.durationMs / 1000).toFixed(2)}s from taking the lock to the end (plan with ANALYZE, pre-flight, janitor, rebuild, ANALYZE, size), of which the index step ${(report.indexes[0]!.durationMs / 1000).toFixed(2)}s (${report.indexes[0]!.status}) and the REINDEX statement itself ${(report.indexes[0]!.reindexMs / 1000).toFixed(2)}s; the rest of the wall time is node + config start-up`
  outcomes.push(dbops)
  outcomes.push(
    await runTool('reindexdb --concurrently', 's_reindexdb', url, admin, () =>
      timed(
        path.join(cluster.binDir, 'reindexdb'),
        ['--concurrently', '--index', 's_reindexdb.events_email_idx'],
        libpq,
      ),
    ),
  )
  if (repack) {
    await admin.query('create extension pg_repack')
    outcomes.push(
      await runTool('pg_repack --index', 's_repack', url, admin, () =>
        timed(
          repack,
          ['--no-superuser-check', '--index', 's_repack.events_email_idx', '--dbname', dbName],
          libpq,
        ),
      ),
    )
  }
} finally {
  await admin.end()
  await workdir.remove()
  await cluster.stop()
}

const header = [
  'tool',
  'wall',
  'before',
  'after',
  'reclaimed',
  'client RSS',
  'writer stmts',
  'writer max',
  'writer p99',
]
const rows = outcomes.map((o) => [
  o.tool,
  `${(o.wallMs / 1000).toFixed(2)}s`,
  mb(o.beforeBytes),
  mb(o.afterBytes),
  mb(o.beforeBytes - o.afterBytes),
  o.peakRssKb ? `${(o.peakRssKb / 1024).toFixed(0)} MB` : '?',
  String(o.writes),
  `${o.maxWriteMs.toFixed(0)}ms`,
  `${o.p99WriteMs.toFixed(1)}ms`,
])
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
for (const r of [header, widths.map((w) => '-'.repeat(w)), ...rows])
  process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`)
for (const o of outcomes) if (o.note) process.stdout.write(`\n${o.note}`)
process.stdout.write(
  `\n(${ROWS.toLocaleString()} rows, 1 in ${KEEP_EVERY} kept; PostgreSQL ${execFileSync(path.join(cluster.binDir, 'postgres'), ['--version']).toString().trim()}; dbops time includes node start-up, planning with ANALYZE, and ANALYZE after)\n`,
)
