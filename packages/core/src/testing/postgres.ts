import { execFileSync, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'

/**
 * A real, throwaway PostgreSQL for tests: the server binaries installed on the machine
 * (PG_BINDIR, `pg_config --bindir` or Debian's /usr/lib/postgresql/<v>/bin), initdb in a
 * temp dir, a free port on 127.0.0.1, run as the `postgres` user when we are root. A test
 * runner may start one cluster for all suites and pass its port in DBOPS_TEST_PG (dbops's own
 * `pnpm test` does); a suite run on its own starts its own. Each suite gets its own
 * database, cloned from a template.
 */
export interface TestCluster {
  host: string
  port: number
  user: string
  /** Password of the `dbops_test` role (md5/scram auth over TCP), for tests of auth paths. */
  password: string
  binDir: string
  /** `postgres://postgres@127.0.0.1:port/<db>` — superuser, trust auth. */
  url(database: string): string
  stop(): Promise<void>
}

export const TEST_ROLE = 'dbops_test'
export const TEST_PASSWORD = 'S3cret-test-pw!x'
/** A role that may only connect over SSL (with TEST_PASSWORD). */
export const SSL_ROLE = 'dbops_ssl'

export function pgBinDir(): string {
  const candidates = [process.env.PG_BINDIR]
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim())
  } catch {}
  for (const v of ['17', '16', '15', '14']) candidates.push(`/usr/lib/postgresql/${v}/bin`)
  const dir = candidates.find((d) => d && existsSync(path.join(d, 'initdb')))
  if (!dir)
    throw new Error(
      'PostgreSQL server binaries (initdb) not found: install postgresql-15 or set PG_BINDIR',
    )
  return dir
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Runs a PostgreSQL program (as `asUser` when given); rejects with its output on failure. */
export function runPgProgram(
  cmd: string,
  args: string[],
  asUser: { uid: number; gid: number } | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(asUser ?? {}) })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(cmd)} exited ${code}: ${out}`)),
    )
  })
}

/** The `postgres` user to run server programs as when we are root (initdb refuses root). */
export function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim())
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim())
  return { uid, gid }
}

export async function startCluster(): Promise<TestCluster> {
  const binDir = pgBinDir()
  const asUser = postgresUser()
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-pg-'))
  if (asUser) await chown(dir, asUser.uid, asUser.gid)
  await chmod(dir, 0o700)
  const data = path.join(dir, 'data')
  const port = await freePort()
  await runPgProgram(
    path.join(binDir, 'initdb'),
    [
      '-D',
      data,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ],
    asUser,
  )
  // TCP connections of the superuser are trusted; the test role must give its password;
  // the SSL role must come over SSL (a self-signed certificate), to test SSL settings.
  const hba = `local all all trust\nhost all postgres 127.0.0.1/32 trust\nhostssl all ${SSL_ROLE} 127.0.0.1/32 scram-sha-256\nhostnossl all ${SSL_ROLE} 127.0.0.1/32 reject\nhost all all 127.0.0.1/32 scram-sha-256\n`
  await writeFile(path.join(data, 'pg_hba.conf'), hba)
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      path.join(data, 'server.key'),
      '-out',
      path.join(data, 'server.crt'),
    ],
    { stdio: 'ignore' },
  )
  await chmod(path.join(data, 'server.key'), 0o600)
  if (asUser)
    for (const f of ['pg_hba.conf', 'server.key', 'server.crt'])
      await chown(path.join(data, f), asUser.uid, asUser.gid)
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c max_prepared_transactions=10 -c ssl=on`
  await runPgProgram(
    path.join(binDir, 'pg_ctl'),
    ['-D', data, '-w', '-l', path.join(dir, 'log'), '-o', opts, 'start'],
    asUser,
  )
  const cluster: TestCluster = {
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: TEST_PASSWORD,
    binDir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await runPgProgram(
        path.join(binDir, 'pg_ctl'),
        ['-D', data, '-m', 'immediate', 'stop'],
        asUser,
      ).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    },
  }
  const admin = new pg.Client({ connectionString: cluster.url('postgres') })
  await admin.connect()
  await admin.query(`create role ${TEST_ROLE} login superuser password '${TEST_PASSWORD}'`)
  await admin.query(`create role ${SSL_ROLE} login password '${TEST_PASSWORD}'`)
  await admin.end()
  return cluster
}

/** The shared cluster of `run-suites`, or a new one owned by this process. */
export async function useCluster(): Promise<TestCluster> {
  const shared = process.env.DBOPS_TEST_PG
  if (shared) {
    const { port } = JSON.parse(shared) as { port: number }
    return {
      host: '127.0.0.1',
      port,
      user: 'postgres',
      password: TEST_PASSWORD,
      binDir: pgBinDir(),
      url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
      stop: async () => {},
    }
  }
  return startCluster()
}

export interface TestDatabase {
  name: string
  /** Superuser URL without a password (trust). */
  url: string
  /** URL of the password-protected test role: use it where a secret must not leak. */
  passwordUrl: string
  cluster: TestCluster
  /** A pg client for assertions; closed by drop(). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>
  drop(): Promise<void>
}

/**
 * A fresh database for one suite: `create database ... template <template>`. Pass a setup
 * SQL to build a template once and clone it per suite.
 */
export async function createTestDatabase(
  prefix = 'suite',
  options: { template?: string } = {},
): Promise<TestDatabase> {
  const cluster = await useCluster()
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${Math.random().toString(36).slice(2, 7)}`
  const admin = new pg.Client({ connectionString: cluster.url('postgres') })
  await admin.connect()
  await admin.query(`create database "${name}" template "${options.template ?? 'template1'}"`)
  await admin.end()
  const client = new pg.Client({ connectionString: cluster.url(name) })
  await client.connect()
  client.on('error', () => {})
  return {
    name,
    url: cluster.url(name),
    passwordUrl: `postgres://${TEST_ROLE}:${encodeURIComponent(TEST_PASSWORD)}@127.0.0.1:${cluster.port}/${name}`,
    cluster,
    query: (sql, params) => client.query(sql, params),
    drop: async () => {
      await client.end().catch(() => {})
      const a = new pg.Client({ connectionString: cluster.url('postgres') })
      await a.connect()
      await a.query(`drop database if exists "${name}" with (force)`).catch(() => {})
      await a.end()
      await cluster.stop()
    },
  }
}
