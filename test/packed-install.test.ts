// dbops as a new user gets it: every package packed as `pnpm publish` would, the tarballs
// installed into fresh apps outside this repository (no workspace links, no tsx of ours),
// then the first hour of commands through the installed bin. Installs come from the local
// npm cache and pnpm store (--prefer-offline), so the suite stays fast and needs no network
// once the workspace has been installed on this machine.
import { execFile, spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, REPO_ROOT, type TestDatabase } from '@dbops/test-utils'
import { packAll } from '@dbops/test-utils'

const exec = promisify(execFile)
// The apps use the workspace's own TypeScript and Node types, as a user's app would have its own.
const TYPESCRIPT = JSON.parse(
  await readFile(path.join(REPO_ROOT, 'node_modules/typescript/package.json'), 'utf8'),
).version as string
const TYPES_NODE = JSON.parse(
  await readFile(path.join(REPO_ROOT, 'node_modules/@types/node/package.json'), 'utf8'),
).version as string
const STRICT_TSCONFIG = {
  compilerOptions: {
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    target: 'ES2022',
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  },
  include: ['dbops.config.ts', 'health.test-helper.ts'],
}

/** A plain Node script: no TypeScript, no loader, the packages' documented functions. */
const PLAIN_SCRIPT = `import health from '@dbops/health'
import { scrub, DbopsError, ExitCode, parseDuration } from 'dbops/plugin'
import { defineConfig } from 'dbops'
const plugin = health()
const config = defineConfig({ plugins: [plugin] })
const error = new DbopsError('DEMO', 'postgres://app:s3cret@db/app is down')
console.log(JSON.stringify({
  plugin: { kind: plugin.kind, namespace: plugin.namespace },
  plugins: config.plugins.length,
  scrubbed: scrub(error.message, ['s3cret']),
  failed: ExitCode.failed,
  minutes: parseDuration('30m') / 60000,
}))
`

/** A team's test, type-checked by the app's tsc and run by plain node: dbops/testing from the tarball. */
const TESTING_TS = `import { defineConfig } from 'dbops'
import health from '@dbops/health'
import { createTestDatabase, runTask, type TestRunResult } from 'dbops/testing'

export async function healthOfAFreshDatabase(): Promise<TestRunResult['report']['status']> {
  const db = await createTestDatabase('app_test')
  try {
    const run = await runTask('health:check', { config: defineConfig({ connection: { url: db.url }, plugins: [health({ checks: { backup_freshness: { enabled: false } } })] }) })
    return run.report.status
  } finally {
    await db.drop()
  }
}
`
const TESTING_MJS = `import { defineConfig } from 'dbops'
import { createTestDatabase, runPipeline } from 'dbops/testing'
const db = await createTestDatabase('app_test')
try {
  const { rows } = await db.query('select current_database() as name')
  const run = await runPipeline('retention:apply', { config: defineConfig({ connection: { url: db.url }, storage: { local: { dir: './test-backups' } } }) })
  console.log(JSON.stringify({ database: rows[0].name === db.name, status: run.report.status, steps: run.report.steps.map((s) => s.id) }))
} finally {
  await db.drop()
}
`

interface App {
  name: string
  dir: string
  manager: 'npm' | 'pnpm'
}

let outside: string
let tarballs: Map<string, string>
let db: TestDatabase

test.before(async () => {
  const core = path.join(REPO_ROOT, 'packages/core/dist')
  if (!existsSync(path.join(core, 'index.d.ts'))) {
    throw new Error(
      'packages/core/dist has no declarations (built with build:js, or not built): run `pnpm build` first (`pnpm test` and `pnpm test:packed` do)',
    )
  }
  outside = await mkdtemp(path.join(os.tmpdir(), 'dbops-packed-'))
  assert.not.ok(outside.startsWith(REPO_ROOT), 'the apps live outside the repository')
  tarballs = await packAll(await mkdtemp(path.join(outside, 'packs-')))
  db = await createTestDatabase('packed')
  await db.query(`create table customers (id bigserial primary key, email text not null unique);
    create table orders (id bigserial primary key, customer_id bigint not null references customers, total numeric(10,2) not null);
    insert into customers (email) select 'c' || g || '@example.com' from generate_series(1, 300) g;
    insert into orders (customer_id, total) select 1 + g % 300, g * 1.5 from generate_series(1, 1200) g;`)
})

test.after(async () => {
  await db?.drop()
  if (outside) await rm(outside, { recursive: true, force: true })
})

async function sh(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // The suite's cluster (DBOPS_TEST_PG) is passed on, for dbops/testing in the apps.
    const base = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      NO_COLOR: '1',
      CI: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...(process.env.DBOPS_TEST_PG ? { DBOPS_TEST_PG: process.env.DBOPS_TEST_PG } : {}),
    }
    const child = spawn(cmd, args, {
      cwd,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const tarball = (name: string) => {
  const file = tarballs.get(name)
  if (!file) throw new Error(`no tarball for ${name}`)
  return file
}

/**
 * Every app gets every tarball: a package may depend on another of ours (health on reindex),
 * which must come from its tarball, never from the registry.
 */
async function makeApp(
  name: string,
  manager: App['manager'],
  packageJson: Record<string, unknown> | 'npm init -y',
): Promise<App> {
  const packages = [...tarballs.keys()]
  const dir = path.join(outside, name)
  await exec('mkdir', ['-p', dir])
  if (packageJson === 'npm init -y') await exec('npm', ['init', '-y'], { cwd: dir })
  else await writeFile(path.join(dir, 'package.json'), JSON.stringify(packageJson, null, 2))
  const specs = [...packages.map(tarball), `typescript@${TYPESCRIPT}`, `@types/node@${TYPES_NODE}`]
  const install =
    manager === 'npm'
      ? await sh(
          'npm',
          ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
          dir,
        )
      : await sh('pnpm', ['add', '--prefer-offline', '--reporter=append-only', ...specs], dir)
  assert.is(
    install.code,
    0,
    `${manager} install in ${name} failed:\n${install.stdout}\n${install.stderr}`,
  )
  return { name, dir, manager }
}

/**
 * One installed copy of dbops, whatever the manager: the plugins peer-depend on it, so the
 * DbopsError a plugin throws is the CLI's.
 */
function assertOneDbops(app: App): void {
  if (app.manager === 'pnpm') {
    const copies = readdirSync(path.join(app.dir, 'node_modules/.pnpm')).filter((entry) =>
      /^dbops@/.test(entry),
    )
    assert.is(copies.length, 1, `pnpm installed dbops more than once: ${copies.join(', ')}`)
  } else {
    const nested = readdirSync(path.join(app.dir, 'node_modules/@dbops')).filter((plugin) =>
      existsSync(path.join(app.dir, 'node_modules/@dbops', plugin, 'node_modules/dbops')),
    )
    assert.equal(nested, [], 'npm nested a second dbops under a plugin')
  }
}

/** The installed bin, as `npx dbops` / `pnpm exec dbops` would run it. */
const dbops = (app: App, args: string[], env: Record<string, string> = {}) =>
  sh(path.join(app.dir, 'node_modules/.bin/dbops'), args, app.dir, { DATABASE_URL: db.url, ...env })

async function rowCounts(url: string): Promise<Record<string, number>> {
  const pg = (await import('pg')).default
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query<{ customers: string; orders: string }>(
      'select (select count(*) from customers) as customers, (select count(*) from orders) as orders',
    )
    return { customers: Number(rows[0]!.customers), orders: Number(rows[0]!.orders) }
  } finally {
    await client.end()
  }
}

/** The first hour, in one app: init, the user's tsc, a backup, a restore, health, plain node. */
async function firstHour(app: App, tsc: string[]): Promise<void> {
  assertOneDbops(app)
  const init = await dbops(app, ['init'])
  assert.is(init.code, 0, `dbops init:\n${init.stdout}\n${init.stderr}`)
  const written = await readFile(path.join(app.dir, 'dbops.config.ts'), 'utf8')
  // init saw the installed plugins: the commands below run what it wrote, nothing else.
  assert.match(written, /import pgdump from '@dbops\/backup-pgdump'/)
  assert.match(written, /health\(\)/)
  assert.match(written, /backup: \['pgdump:dump', 'pgdump:verify', 'retention:apply'\]/)
  assert.match(init.stdout, /npx dbops run backup --dry-run/)

  const typecheck = await sh(path.join(app.dir, 'node_modules/.bin/tsc'), tsc, app.dir)
  assert.is(
    typecheck.code,
    0,
    `the user's tsc ${tsc.join(' ')} reports errors:\n${typecheck.stdout}${typecheck.stderr}`,
  )

  const backup = await dbops(app, ['run', 'backup', '--json'])
  assert.is(backup.code, 0, `dbops run backup:\n${backup.stdout}\n${backup.stderr}`)
  const report = JSON.parse(backup.stdout) as {
    status: string
    steps: { id: string; status: string }[]
  }
  assert.equal(
    report.steps.map((s) => `${s.id}:${s.status}`),
    ['pgdump:dump:success', 'pgdump:verify:success', 'retention:apply:success'],
  )

  const target = `${db.name}_r_${app.name.replace(/-/g, '_')}`
  const restore = await dbops(app, [
    'backups',
    'restore',
    'latest',
    '--target-db',
    target,
    '--create',
  ])
  assert.is(restore.code, 0, `dbops backups restore:\n${restore.stdout}\n${restore.stderr}`)
  try {
    assert.equal(await rowCounts(db.cluster.url(target)), await rowCounts(db.url))
  } finally {
    await db.query(`drop database if exists "${target}" with (force)`)
  }

  const health = await dbops(app, ['health'])
  assert.ok(
    health.code === 0,
    `dbops health exited ${health.code}:\n${health.stdout}\n${health.stderr}`,
  )
  assert.match(health.stdout, /backup/i)

  await writeFile(path.join(app.dir, 'plain.mjs'), PLAIN_SCRIPT)
  const plain = await sh(process.execPath, ['plain.mjs'], app.dir)
  assert.is(plain.code, 0, `node plain.mjs:\n${plain.stderr}`)
  assert.equal(JSON.parse(plain.stdout), {
    plugin: { kind: 'plugin', namespace: 'health' },
    plugins: 1,
    scrubbed: 'postgres://app:[redacted]@db/app is down',
    failed: 1,
    minutes: 30,
  })
}

const TSC_FLAGS = [
  '--noEmit',
  '--strict',
  '--skipLibCheck',
  '--module',
  'nodenext',
  '--moduleResolution',
  'nodenext',
  '--target',
  'es2022',
  '--types',
  'node',
  'dbops.config.ts',
]

test('an npm app ("type": "commonjs", from npm init -y): init, tsc, backup, restore, health, plain node', async () => {
  const app = await makeApp('npm-commonjs', 'npm', 'npm init -y')
  assert.is(JSON.parse(await readFile(path.join(app.dir, 'package.json'), 'utf8')).type, 'commonjs')
  await firstHour(app, TSC_FLAGS)
})

test('a pnpm app ("type": "module"): init, tsc, backup, restore, health, plain node', async () => {
  const dir = path.join(outside, 'pnpm-module')
  await exec('mkdir', ['-p', dir])
  const app = await makeApp('pnpm-module', 'pnpm', {
    name: 'pnpm-module-app',
    version: '1.0.0',
    private: true,
    type: 'module',
  })
  await firstHour(app, TSC_FLAGS)
  const every = [...tarballs.keys()].map((name) => `import(${JSON.stringify(name)})`).join(', ')
  const imported = await sh(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const mods = await Promise.all([${every}]); console.log(mods.every((m) => Object.keys(m).length > 0))`,
    ],
    app.dir,
  )
  assert.is(
    imported.stdout.trim(),
    'true',
    `plain node cannot import every package:\n${imported.stderr}`,
  )
})

test('an app with its own strict tsconfig (NodeNext, strict, skipLibCheck): tsc -p over the config and a dbops/testing helper; dbops/testing in plain node', async () => {
  const dir = path.join(outside, 'strict-tsconfig')
  await exec('mkdir', ['-p', dir])
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify(STRICT_TSCONFIG, null, 2))
  await writeFile(path.join(dir, 'health.test-helper.ts'), TESTING_TS)
  const app = await makeApp('strict-tsconfig', 'pnpm', {
    name: 'strict-app',
    version: '1.0.0',
    private: true,
  })
  await firstHour(app, ['--noEmit', '-p', 'tsconfig.json'])
  await writeFile(path.join(app.dir, 'testing.mjs'), TESTING_MJS)
  const testing = await sh(process.execPath, ['testing.mjs'], app.dir)
  assert.is(testing.code, 0, `node testing.mjs (dbops/testing):\n${testing.stderr}`)
  assert.equal(JSON.parse(testing.stdout), {
    database: true,
    status: 'success',
    steps: ['retention:apply'],
  })
})

test.run()
