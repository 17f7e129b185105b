// Helpers of the dashboard suites (not a suite itself): a project with backups in a local
// directory and s3rver, health history, migrations, and scheduled runs (one failing), made
// through the real CLI; and `dbops dashboard` / `dbops watch` as child processes.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import {
  DBOPS_BIN,
  REPO_ROOT,
  TEST_PASSWORD,
  createTestDatabase,
  makeWorkdir,
  runCli,
  startS3,
  type CliResult,
  type TestDatabase,
  type TestS3,
} from '@dbops/test-utils'

export const S3_SECRET = 'dashboard-s3-secret-Zq81xw'
export const WEBHOOK_TOKEN = 'hooktoken-7f3c9aa1d2'
export const DASHBOARD_TOKEN = 'dash-token-5b8e1f0c44aa'

const TEST_PLUGIN = `import { definePlugin, DbopsError } from 'dbops/plugin'
import { z } from 'zod'
export default definePlugin({
  name: 'dashboard-test',
  namespace: 't',
  options: z.object({}).default({}),
  setup: () => ({
    tasks: {
      fail: { title: 'a step that fails', run: async () => { throw new DbopsError('TEST_FAILED', 'the nightly export failed on purpose') } },
    },
  }),
})
`

// Stands in for @dbops/reindex's apply step (same namespace, task and result figures) without
// needing bloated indexes: the dashboard charts what reindex:apply steps reclaimed.
const REINDEX_STANDIN = `import { definePlugin } from 'dbops'
import { z } from 'zod'
export default definePlugin({
  name: 'reindex-standin',
  namespace: 'reindex',
  options: z.object({}).default({}),
  setup: () => ({ tasks: { apply: { title: 'rebuild bloated indexes (stand-in)', run: async () => ({ status: 'done', rebuilt: 1, skipped: 0, failed: 0, reclaimedBytes: 4096, durationMs: 5 }) } } }),
})
`

export interface Project {
  dir: string
  db: TestDatabase
  s3: TestS3
  identity: string
  env: Record<string, string>
  cli(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>
  /** Every secret of the project: none may appear in any page or endpoint. */
  secrets: string[]
  remove(): Promise<void>
}

export function configSource(options: {
  url?: string
  s3?: TestS3
  recipient: string
  schedules?: string
  dashboard?: string
}): string {
  return `import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
import s3 from '@dbops/storage-s3'
import health from '@dbops/health'
import migrate from '@dbops/migrate-sql'
import dashboard from '@dbops/dashboard'
import t from './test-plugin.ts'
import reindex from './reindex-standin.ts'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  pool: { max: 4 },
  storage: {
    local: { dir: './backups' },
    ${options.s3 ? `offsite: s3({ bucket: 'dbops-test', prefix: 'dash/', endpoint: '${options.s3.endpoint}', region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: '${S3_SECRET}' }),` : ''}
  },
  plugins: [
    pgdump({ format: 'custom', encryption: { recipients: ['${options.recipient}'] } }),
    health({ checks: { backup_freshness: { enabled: false } } }),
    migrate({ dir: './migrations' }),
    dashboard(${options.dashboard ?? ''}),
    t(),
    reindex(),
  ],
  pipelines: { backup: ['pgdump:dump', 'pgdump:verify'], health: ['health:check'], nightly: ['t:fail'], tidy: ['reindex:apply'] },
  schedules: ${options.schedules ?? `{ nightly: { cron: '0 2 * * *', run: 'backup' }, health: { cron: '*/15 * * * *', run: 'health' } }`},
  notify: [{ webhook: 'http://127.0.0.1:9/hooks/${WEBHOOK_TOKEN}', on: ['failure'] }],
})
`
}

/** A project with two backups (local and S3), a health run, 2 applied and 1 pending migration. */
export async function makeProject(
  prefix: string,
  options: { s3?: boolean; db?: TestDatabase } = {},
): Promise<Project> {
  const db = options.db ?? (await createTestDatabase(prefix))
  const s3 = options.s3 === false ? undefined : await startS3()
  const work = await makeWorkdir({
    'test-plugin.ts': TEST_PLUGIN,
    'reindex-standin.ts': REINDEX_STANDIN,
  })
  execFileSync('age-keygen', ['-o', path.join(work.dir, 'key.txt')], { stdio: 'ignore' })
  const recipient = execFileSync('age-keygen', ['-y', path.join(work.dir, 'key.txt')], {
    encoding: 'utf8',
  }).trim()
  const identity = readFileSync(path.join(work.dir, 'key.txt'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('AGE-SECRET-KEY-1'))!
  await work.write('dbops.config.ts', configSource({ s3, recipient }))
  await work.write(
    'migrations/001_items.sql',
    'create table items (id int primary key, name text not null);\n',
  )
  await work.write(
    'migrations/002_seed.sql',
    "insert into items select g, 'item ' || g from generate_series(1, 500) g;\n",
  )
  const env = { DATABASE_URL: db.passwordUrl, DBOPS_AGE_IDENTITY: identity }
  const cli = (args: string[], extraEnv: Record<string, string> = {}) =>
    runCli(args, { cwd: work.dir, env: { ...env, ...extraEnv } })
  const must = async (args: string[]) => {
    const r = await cli(args)
    if (r.code !== 0)
      throw new Error(`dbops ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
    return r
  }
  await must(['migrate', 'apply'])
  await work.write('migrations/003_later.sql', 'alter table items add column price numeric;\n')
  await must(['run', 'backup'])
  await must(['run', 'health'])
  return {
    dir: work.dir,
    db,
    s3: s3!,
    identity,
    env,
    cli,
    secrets: [
      TEST_PASSWORD,
      encodeURIComponent(TEST_PASSWORD),
      identity,
      S3_SECRET,
      WEBHOOK_TOKEN,
      DASHBOARD_TOKEN,
    ],
    remove: async () => {
      await work.remove()
      await s3?.stop()
      if (!options.db) await db.drop()
    },
  }
}

/** Runs the failing `nightly` and the succeeding `tidy` schedule once each through a real `dbops watch`. */
export async function withScheduledRuns(
  project: Project,
  args: string[] = [],
  paths: string[] = [],
) {
  const { watchUntilRuns } = await import('./watch.ts')
  const { readFile, writeFile } = await import('node:fs/promises')
  const file = path.join(project.dir, 'dbops.config.ts')
  const original = await readFile(file, 'utf8')
  const recipient = /recipients: \['([^']+)'\]/.exec(original)![1]!
  const s3 = /offsite: s3/.test(original) ? project.s3 : undefined
  await writeFile(
    file,
    configSource({
      s3,
      recipient,
      schedules: `{ nightly: { cron: '* * * * * *', run: 'nightly' }, tidy: { cron: '* * * * * *', run: 'tidy' } }`,
    }),
  )
  try {
    return await watchUntilRuns(project, ['nightly', 'tidy'], { args, paths })
  } finally {
    await writeFile(file, original)
  }
}

export interface Server {
  child: ChildProcess
  url: string
  output(): string
  stop(): Promise<number | null>
}

/** `dbops dashboard --port 0 ...` in its own process; resolves once it printed its address. */
export function startDashboard(
  project: { dir: string; env: Record<string, string> },
  args: string[] = [],
  extraEnv: Record<string, string> = {},
): Promise<Server> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    CI: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...project.env,
    ...extraEnv,
  }
  const child = spawn(process.execPath, [DBOPS_BIN, 'dashboard', '--port', '0', ...args], {
    cwd: project.dir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d
      const url = /on (http:\/\/\S+\/)/.exec(stdout)?.[1]
      if (url) {
        resolve({
          child,
          url,
          output: () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGINT')
            return exited
          },
        })
      }
    })
    void exited.then((code) =>
      reject(new Error(`dbops dashboard exited ${code} before serving:\n${stdout}\n${stderr}`)),
    )
  })
}

export async function getJson<T = any>(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const res = await fetch(url, init)
  const text = await res.text()
  let body: T
  try {
    body = JSON.parse(text) as T
  } catch {
    body = undefined as T
  }
  return { status: res.status, body, text, headers: res.headers }
}

/** Waits for a condition, polling: never a fixed sleep. */
export async function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export { REPO_ROOT, runCli, DBOPS_BIN }
