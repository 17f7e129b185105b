import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  createTestDatabase,
  DBOPS_BIN,
  makeWorkdir,
  runCli,
  type TestDatabase,
} from '@dbops/test-utils'

// The first hour of a new user: `dbops init` in their app, then the commands it names.
let db: TestDatabase
test.before(async () => {
  db = await createTestDatabase('first_run')
  await db.query('create table notes (id serial primary key, body text)')
})
test.after(async () => db?.drop())

const appPackage = (deps: string[]) =>
  JSON.stringify({
    name: 'app',
    version: '1.0.0',
    type: 'commonjs',
    devDependencies: Object.fromEntries(['dbops', ...deps].map((d) => [d, '*'])),
  })

test('init writes the installed plugins and working pipelines, and its next commands work', async () => {
  const work = await makeWorkdir({
    'package.json': appPackage([
      '@dbops/backup-pgdump',
      '@dbops/health',
      '@dbops/migrate-sql',
      '@dbops/reindex',
    ]),
    'prisma/migrations/20240101000000_init/migration.sql':
      'create table prisma_things (id int primary key);\n',
    '.env': `DATABASE_URL=${db.url}\n`,
    '.gitignore': 'node_modules\n',
  })
  try {
    const init = await runCli(['init'], { cwd: work.dir })
    assert.is(init.code, 0, init.stderr)
    const config = await readFile(`${work.dir}/dbops.config.ts`, 'utf8')
    assert.match(config, /import pgdump from '@dbops\/backup-pgdump'/)
    assert.match(config, /migrate\(\{ dir: '\.\/prisma\/migrations', ledger: 'prisma' \}\)/)
    assert.match(init.stdout, /DATABASE_URL is read from \.env/)
    // Not a TTY and no --yes: it offers, and leaves the user's file alone.
    assert.match(init.stdout, /backups\/ is not in \.gitignore/)
    assert.is(await readFile(`${work.dir}/.gitignore`, 'utf8'), 'node_modules\n')

    const list = await runCli(['list', '--json'], { cwd: work.dir })
    assert.is(list.code, 0, list.stderr)
    const pipelines = Object.keys(JSON.parse(list.stdout).pipelines)
    for (const name of ['backup', 'migrate', 'health', 'optimize', 'cleanup'])
      assert.ok(pipelines.includes(name), `${name} in ${pipelines}`)

    // The "next" lines are commands that work, in order.
    const next = init.stdout
      .split('\n')
      .filter((l) => l.startsWith('  npx dbops '))
      .map((l) =>
        l
          .trim()
          .replace(/^npx dbops /, '')
          .split(' '),
      )
    assert.equal(
      next.map((a) => a.join(' ')),
      ['list', 'run backup --dry-run', 'run backup'],
    )
    for (const args of next) {
      const result = await runCli(args, { cwd: work.dir })
      assert.is(result.code, 0, `${args.join(' ')}: ${result.stderr}`)
    }
  } finally {
    await work.remove()
  }
})

test('init --yes adds the backup directory to .gitignore; without plugins it still leads somewhere', async () => {
  const work = await makeWorkdir({ 'package.json': appPackage([]) })
  try {
    const init = await runCli(['init', '--yes'], { cwd: work.dir })
    assert.is(init.code, 0, init.stderr)
    assert.match(await readFile(`${work.dir}/.gitignore`, 'utf8'), /^backups\/$/m)
    assert.match(init.stdout, /npx dbops run cleanup --dry-run/)
    const dry = await runCli(['run', 'cleanup', '--dry-run'], {
      cwd: work.dir,
      env: { DATABASE_URL: db.url },
    })
    assert.is(dry.code, 0, dry.stderr)
  } finally {
    await work.remove()
  }
})

test('a mistyped option is reported as one, with a suggestion, before any pipeline is looked up', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts':
      "import { defineConfig } from 'dbops'\nexport default defineConfig({ pipelines: { backup: ['retention:apply'] } })\n",
  })
  try {
    const result = await runCli(['run', 'backup', '--hepl'], {
      cwd: work.dir,
      env: { DATABASE_URL: db.url },
    })
    assert.is(result.code, 2)
    assert.match(result.stderr, /unknown option '--hepl'; did you mean '--help'\?/)
    assert.not.match(result.stderr, /pipeline/i)
  } finally {
    await work.remove()
  }
})

test('dbops help, dbops help <command> and dbops version work as aliases', async () => {
  const help = await runCli(['help'])
  assert.is(help.code, 0, help.stderr)
  assert.match(help.stdout, /Usage: dbops <command>/)
  const runHelp = await runCli(['help', 'run'])
  assert.is(runHelp.code, 0, runHelp.stderr)
  assert.match(runHelp.stdout, /dbops run <pipeline/)
  const version = await runCli(['version'])
  assert.is(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+/)
})

test('dbops list | head -1 prints one line and no EPIPE stack', async () => {
  // More output than a pipe holds, so dbops is still writing when head has gone.
  const pipelines = Array.from({ length: 4000 }, (_, i) => `p${i}: ['retention:apply']`).join(', ')
  const work = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig } from 'dbops'\nexport default defineConfig({ pipelines: { ${pipelines} } })\n`,
  })
  try {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve) => {
        const child = spawn('sh', ['-c', `"${process.execPath}" "${DBOPS_BIN}" list | head -1`], {
          cwd: work.dir,
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            DATABASE_URL: db.url,
            NO_COLOR: '1',
          },
        })
        let stdout = ''
        let stderr = ''
        child.stdout.on('data', (d) => (stdout += d))
        child.stderr.on('data', (d) => (stderr += d))
        child.on('close', (code) => resolve({ code, stdout, stderr }))
      },
    )
    assert.is(result.stdout.trim().split('\n').length, 1)
    assert.not.match(result.stderr, /EPIPE|Error|at /)
  } finally {
    await work.remove()
  }
})

test.run()
