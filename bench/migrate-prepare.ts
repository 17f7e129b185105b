/**
 * One large data migration (a table and row after row of single-row INSERTs, as a seed or a
 * data fix exported as SQL) of 0.5, 1, 2 and 20 MB, with:
 *   - dbops `migrate apply --dry-run`: the preparation alone (read, check the encoding, parse
 *     every statement, lint), which was quadratic before (issue 12 §5d)
 *   - dbops `migrate apply`: preparation, then the file in one transaction with its ledger row
 *   - the baseline a user would run: `psql -1 -f` of the same file
 * each on a fresh database, median of RUNS, wall time of the whole command including process
 * start, peak RSS and client CPU (user + system) from /usr/bin/time.
 *
 *   node --import tsx bench/migrate-prepare.ts        (BENCH_RUNS=3 BENCH_SIZES_MB=0.5,1,2,20)
 */
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { bigMigration } from '@dbops/test-utils'
import { makeWorkdir } from '@dbops/test-utils'
import { DBOPS_BIN } from '@dbops/test-utils'
import { startCluster } from '@dbops/test-utils'
import { formatMs, median, type Timed, timed } from './lib/measure.ts'

const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SIZES_MB = (process.env.BENCH_SIZES_MB ?? '0.5,1,2,20').split(',').map(Number)

const cluster = await startCluster()
const admin = new pg.Client({ connectionString: cluster.url('postgres') })
await admin.connect()
const psql = path.join(cluster.binDir, 'psql')
let dbCounter = 0
const freshDb = async () => {
  const name = `bench_prep_${process.pid}_${dbCounter++}`
  await admin.query(`create database ${name}`)
  return { name, url: cluster.url(name) }
}
const dropDb = (name: string) => admin.query(`drop database if exists ${name} with (force)`)

try {
  const rows: Array<{ mb: number; statements: number; results: Record<string, Timed[]> }> = []
  for (const mb of SIZES_MB) {
    const { sql, rows: inserts } = bigMigration(mb * 1024 * 1024)
    const work = await makeWorkdir({
      'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nimport migrate from '@dbops/migrate-sql'\nexport default defineConfig({ connection: { url: env('DATABASE_URL') }, plugins: [migrate()], pipelines: { migrate: ['migrate:apply'] } })\n`,
      'migrations/0001_data.sql': sql,
    })
    const file = path.join(work.dir, 'migrations/0001_data.sql')
    const tools: Record<string, (url: string) => Promise<Timed>> = {
      'dbops --dry-run': (url) =>
        timed(process.execPath, [DBOPS_BIN, 'migrate', 'apply', '--dry-run'], {
          cwd: work.dir,
          env: { DATABASE_URL: url, DBOPS_LOG_LEVEL: 'warn' },
        }),
      'dbops apply': (url) =>
        timed(process.execPath, [DBOPS_BIN, 'migrate', 'apply'], {
          cwd: work.dir,
          env: { DATABASE_URL: url, DBOPS_LOG_LEVEL: 'warn' },
        }),
      'psql -1 -f': (url) =>
        timed(psql, ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', url, '-f', file], {
          cwd: work.dir,
          env: {},
        }),
    }
    const names = Object.keys(tools)
    const results: Record<string, Timed[]> = Object.fromEntries(names.map((n) => [n, []]))
    for (let run = 0; run < RUNS; run++) {
      const order = names.map((_, i) => names[(i + run) % names.length]!) // alternate who goes first
      for (const name of order) {
        const db = await freshDb()
        results[name]!.push(await tools[name]!(db.url))
        if (name !== 'dbops --dry-run') {
          // The work was really done.
          const check = new pg.Client({ connectionString: db.url })
          await check.connect()
          const n = (await check.query(`select count(*)::int as n from items`)).rows[0].n
          await check.end()
          if (n !== inserts) throw new Error(`${name} inserted ${n} rows, expected ${inserts}`)
        }
        await dropDb(db.name)
      }
      process.stderr.write(
        `${mb} MB run ${run + 1}/${RUNS}: ${order.map((n) => `${n} ${formatMs(results[n]!.at(-1)!.ms)}`).join(', ')}\n`,
      )
    }
    rows.push({ mb, statements: inserts + 1, results })
    await work.remove()
  }

  console.log(
    `\nOne data migration (a table + single-row INSERTs, one transaction) on a fresh database; median of ${RUNS}, alternating order`,
  )
  console.log(
    `${'size'.padEnd(8)} ${'stmts'.padStart(7)}  ${'tool'.padEnd(16)} ${'wall'.padStart(9)} ${'per MB'.padStart(9)} ${'peak RSS'.padStart(9)} ${'client CPU'.padStart(11)}`,
  )
  for (const { mb, statements, results } of rows) {
    for (const [name, timings] of Object.entries(results)) {
      const ms = median(timings.map((t) => t.ms))
      console.log(
        `${`${mb} MB`.padEnd(8)} ${String(statements).padStart(7)}  ${name.padEnd(16)} ${formatMs(ms).padStart(9)} ${formatMs(ms / mb).padStart(9)} ${`${Math.round(median(timings.map((t) => t.rssKb)) / 1024)} MB`.padStart(9)} ${`${median(timings.map((t) => t.cpuS)).toFixed(2)} s`.padStart(11)}`,
      )
    }
  }
  const largest = rows.at(-1)
  if (largest) {
    const prep = median(largest.results['dbops --dry-run']!.map((t) => t.ms))
    const rss = median(largest.results['dbops apply']!.map((t) => t.rssKb)) / 1024
    console.log(
      `\n${largest.mb} MB: preparation (dry run, whole command) ${formatMs(prep)} (target < 5 s), dbops apply peak RSS ${Math.round(rss)} MB (target < 300 MB)`,
    )
  }
  console.log(
    `load average during the run: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs (wall times are only comparable within one run)`,
  )
} finally {
  await admin.end().catch(() => {})
  await cluster.stop()
}
