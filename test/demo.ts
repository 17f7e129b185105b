/**
 * `pnpm demo`: a first success with dbops on a fresh machine, no database configured.
 *
 * Starts a throwaway PostgreSQL of its own (Debian's binaries, a temp data dir, a free port
 * on 127.0.0.1) and runs the repo's own dbops.config.ts against it, as a user would type
 * the commands: the aipromot example's migrations, realistic data, backup (verified by a
 * restore into a scratch database), health, optimize, and a restore into a new database
 * compared table by table. Prints where the backup is and how to restore it, then shuts
 * the database down. Ctrl-C stops everything and cleans up. Never touches DATABASE_URL.
 *
 *   DEMO_SCALE=0.2 pnpm demo      less data (default 1: ~67,000 rows)
 *   DEMO_BACKUP_DIR=/tmp/b        keep the backups elsewhere (default .dbops/backups)
 */
import { spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import pg from 'pg'
import { DBOPS_BIN, REPO_ROOT } from '@dbops/test-utils'
import { startCluster, type TestCluster } from '@dbops/test-utils'
import {
  APP_TABLES,
  countRows,
  generateData,
  volumeFor,
  type AppTable,
} from '../examples/aipromot/scripts/generate-data.ts'

export const DEMO_DATABASE = 'aipromotdb'
const RESTORED_DATABASE = 'aipromotdb_restored'

const tty = process.stdout.isTTY && !process.env.NO_COLOR
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[22m` : s)
const dim = (s: string) => (tty ? `\x1b[2m${s}\x1b[22m` : s)
const say = (line = '') => process.stdout.write(`${line}\n`)

class DemoError extends Error {}

interface Demo {
  cluster?: TestCluster
  child?: ReturnType<typeof spawn>
  stopping?: boolean
  /** The server would not stop: the demo must not report success. */
  leaked?: boolean
}

const backupDir = path.resolve(REPO_ROOT, process.env.DEMO_BACKUP_DIR || '.dbops/backups')

/** The environment of the dbops processes: the user's, minus anything naming another database or destination. */
function dbopsEnv(url: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env))
    if (!/^(DATABASE_|DB_|BACKUP_|PG|DBOPS_AGE)/.test(k)) env[k] = v
  return { ...env, DATABASE_URL: url, BACKUP_DIR: backupDir }
}

/** Runs one dbops command as the user would type it; progress shown live, or stdout captured. */
function dbops(
  demo: Demo,
  url: string,
  args: string[],
  options: { capture?: boolean; okCodes?: number[] } = {},
): Promise<string> {
  if (!options.capture) say(bold(`$ dbops ${args.join(' ')}`))
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DBOPS_BIN, ...args], {
      cwd: REPO_ROOT,
      env: dbopsEnv(url),
      stdio: ['ignore', options.capture ? 'pipe' : 'inherit', 'inherit'],
    })
    demo.child = child
    let stdout = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.on('error', reject)
    child.on('close', (code) => {
      demo.child = undefined
      if (demo.stopping) return reject(new DemoError('interrupted'))
      if ((options.okCodes ?? [0]).includes(code ?? -1)) resolve(stdout)
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

const step = (n: number, text: string) => {
  say()
  say(bold(`${n}. ${text}`))
}

async function run(demo: Demo): Promise<void> {
  const started = Date.now()
  const volume = volumeFor(scale())
  say(
    bold('dbops demo') +
      ': a throwaway PostgreSQL, the aipromot example app, run by ./dbops.config.ts',
  )

  step(1, 'start a throwaway PostgreSQL')
  demo.cluster = await startCluster().catch((error: Error) => {
    throw new DemoError(
      `${error.message}\n   The demo needs PostgreSQL's server and client binaries (Debian/Ubuntu: apt-get install postgresql-15), or PG_BINDIR pointing at them.`,
    )
  })
  const cluster = demo.cluster
  await withClient(cluster.url('postgres'), (c) => c.query(`create database ${DEMO_DATABASE}`))
  const url = cluster.url(DEMO_DATABASE)
  say(
    `   PostgreSQL from ${cluster.binDir}, listening on 127.0.0.1:${cluster.port}; database ${DEMO_DATABASE}`,
  )

  step(2, "migrate: the example's Prisma migrations, recorded in _prisma_migrations")
  await dbops(demo, url, ['run', 'setup'])

  step(3, `generate data (${APP_TABLES.length} tables, INSERT ... SELECT generate_series)`)
  const counts = await withClient(url, (c) =>
    generateData(c, volume, {
      onProgress: (table, rows, ms) =>
        say(`   ${table.padEnd(16)} ${String(rows).padStart(8)} rows  ${dim(`${ms} ms`)}`),
    }),
  )

  step(
    4,
    `back up: pg_dump, compressed, to ${path.relative(process.cwd(), backupDir) || backupDir}; verified by restoring it into a scratch database`,
  )
  await dbops(demo, url, ['run', 'backup'])
  const listed = JSON.parse(
    await dbops(demo, url, ['backups', 'list', '--json'], { capture: true }),
  ) as { backups: { id: string; location: string; size: number; verified: boolean }[] }
  const backup = listed.backups[0]
  if (!backup?.verified) throw new DemoError('the backup did not verify')

  step(5, 'health: the check catalog (exit 0 unless something is critical)')
  await dbops(demo, url, ['health'])

  step(6, 'optimize: rebuild bloated indexes online, then ANALYZE')
  await dbops(demo, url, ['run', 'optimize'])

  step(7, `restore the backup into a new database, ${RESTORED_DATABASE}, and compare`)
  await dbops(demo, url, [
    'backups',
    'restore',
    backup.id,
    '--target-db',
    RESTORED_DATABASE,
    '--create',
  ])
  const restored = await withClient(cluster.url(RESTORED_DATABASE), countRows)
  say(`   ${'table'.padEnd(16)} ${'original'.padStart(9)} ${'restored'.padStart(9)}`)
  for (const table of APP_TABLES)
    say(
      `   ${table.padEnd(16)} ${String(counts[table]).padStart(9)} ${String(restored[table]).padStart(9)}${restored[table] === counts[table] ? '' : '  MISMATCH'}`,
    )
  const mismatched = APP_TABLES.filter((t) => restored[t] !== counts[t])
  if (mismatched.length)
    throw new DemoError(`row counts differ after the restore: ${mismatched.join(', ')}`)

  say()
  say(
    `${bold('All done')} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${total(counts)} rows backed up, verified and restored.`,
  )
  say()
  say(
    `The backup:     ${backup.id} (${formatBytes(backup.size)}): ${path.relative(process.cwd(), backup.location) || backup.location}`,
  )
  say(
    `                 a manifest (sizes, sha256, row counts, verification) and the compressed dump`,
  )
  say(`Restore it into your own PostgreSQL (any database there to connect to, here "postgres"):`)
  say(
    `  DATABASE_URL=postgres://you@localhost:5432/postgres pnpm dbops backups restore ${backup.id} --target-db ${DEMO_DATABASE} --create`,
  )
  say(`Your own app:   examples/aipromot/ (its dbops.config.ts, and its README: the runbook)`)
}

const total = (counts: Record<AppTable, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

function formatBytes(n: number): string {
  return n >= 1024 * 1024
    ? `${(n / 1024 / 1024).toFixed(1)} MB`
    : `${Math.max(1, Math.round(n / 1024))} kB`
}

async function stop(demo: Demo, signal?: NodeJS.Signals): Promise<void> {
  if (demo.stopping) return
  demo.stopping = true
  const child = demo.child
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('close', resolve))
    const within = (ms: number) =>
      Promise.race([
        exited.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms)),
      ])
    // Ctrl-C in a terminal reaches dbops too and it stops on its own; a signal sent to the
    // demo alone is passed on. Either way dbops gets the chance to clean up after itself.
    if (!(await within(signal ? 1000 : 0))) {
      child.kill(signal ?? 'SIGINT')
      if (!(await within(10_000))) child.kill('SIGKILL')
    }
  }
  if (demo.cluster) {
    await demo.cluster.stop()
    if (await stillListening(demo.cluster.port)) {
      process.stderr.write(
        `warning: the demo's PostgreSQL on port ${demo.cluster.port} did not stop; find it with: ps -ef | grep 'postgres.*-p ${demo.cluster.port}'\n`,
      )
      demo.leaked = true
    } else say(dim('(the throwaway PostgreSQL is stopped and its data directory removed)'))
  }
}

/** Whether the server still accepts connections after a few seconds' grace to shut down. */
async function stillListening(port: number): Promise<boolean> {
  const accepts = () =>
    new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
  for (let i = 0; i < 20; i++) {
    if (!(await accepts())) return false
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return true
}

const demo: Demo = {}
let exitCode = 0
const onSignal = (signal: NodeJS.Signals) => {
  if (exitCode === 130) return
  exitCode = 130
  say(`\n${signal}: stopping the demo`)
  void stop(demo, signal).then(() => process.exit(130))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
try {
  await run(demo)
} catch (error) {
  if (exitCode === 0) {
    exitCode = 1
    process.stderr.write(
      `\ndemo failed: ${error instanceof DemoError ? error.message : ((error as Error).stack ?? String(error))}\n`,
    )
  }
} finally {
  if (exitCode !== 130) await stop(demo)
}
process.exitCode = exitCode === 0 && demo.leaked ? 1 : exitCode
