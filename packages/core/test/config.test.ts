import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeWorkdir, runCli } from '@dbops/test-utils'

// The config through the CLI, where the process is the point: exit codes, stderr, flags,
// what `dbops config` prints. What a config resolves to, or the exact problems it is refused
// with, is tabled in-process in config-validation.test.ts. These run without a database,
// with DATABASE_URL pointing at a port where nothing listens.
const NOWHERE = 'postgres://u:pw-not-shown-1234@127.0.0.1:9/app'

async function check(
  files: Record<string, string>,
  args: string[] = ['config'],
  env: Record<string, string> = { DATABASE_URL: NOWHERE },
) {
  const work = await makeWorkdir(files)
  try {
    return await runCli(args, { cwd: work.dir, env })
  } finally {
    await work.remove()
  }
}

const cfg = (body: string) => ({
  'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nexport default defineConfig(${body})\n`,
})

test('every problem is reported at once, one path: message line each, exit 2', async () => {
  const result = await check(
    cfg(
      `{ connection: { url: env('DATABASE_URL') }, pool: { max: 'many', idleTimeoutMs: -1 }, poool: {}, retention: { maxAgeDays: 1.5 } } as any`,
    ),
  )
  assert.is(result.code, 2)
  assert.match(result.stderr, /pool\.max: .*number/i)
  assert.match(result.stderr, /pool\.idleTimeoutMs: /)
  assert.match(result.stderr, /poool: unknown key \(did you mean 'pool'\?\)/)
  assert.match(result.stderr, /retention\.maxAgeDays: /)
})

test('a syntax error names the file and line', async () => {
  const result = await check({
    'dbops.config.ts': `import { defineConfig } from 'dbops'\n\nexport default defineConfig({\n  connection: { url: 'postgres://x/y' \n  pool: {}\n})\n`,
  })
  assert.is(result.code, 2)
  assert.match(result.stderr, /dbops\.config\.ts:5:\d+/)
})

test('conventional env names fill keys the config leaves out; .env beside the config is read; the real env wins', async () => {
  const result = await check(
    {
      ...cfg(`{ connection: {} }`),
      '.env':
        'DB_CONNECTION_LIMIT=7\nDB_QUERY_TIMEOUT=1234\nBACKUP_RETENTION_DAYS=9\nBACKUP_DIR=/var/backups/app\nDATABASE_URL=postgres://from-dotenv/app\n',
    },
    ['config', '--json'],
    { DATABASE_URL: NOWHERE, DB_MAX_IDLE_TIME: '4000' },
  )
  assert.is(result.code, 0, result.stderr)
  const config = JSON.parse(result.stdout)
  assert.is(config.pool.max, 7)
  assert.is(config.pool.queryTimeoutMs, 1234)
  assert.is(config.pool.idleTimeoutMs, 4000)
  assert.is(config.pool.maxLifetimeMs, 1_800_000)
  assert.is(config.retention.maxAgeDays, 9)
  assert.equal(config.storage, { local: { type: 'local', dir: '/var/backups/app' } })
  assert.is(config.connection.target, 'u@127.0.0.1:9/app')
})

test('dbops config redacts every secret: URL passwords, keys, tokens, webhooks', async () => {
  const result = await check(
    cfg(
      `{ connection: { url: env('DATABASE_URL'), readReplicaUrl: 'postgres://r:replica-secret-99@replica/app', password: 'explicit-secret-77' }, notify: [{ webhook: 'https://hooks.example.com/T000/B000/webhook-secret-55' }] }`,
    ),
    ['config', '--json'],
  )
  assert.is(result.code, 0, result.stderr)
  for (const secret of [
    'pw-not-shown-1234',
    'replica-secret-99',
    'explicit-secret-77',
    'webhook-secret-55',
  ])
    assert.not.match(result.stdout + result.stderr, secret)
  assert.match(result.stdout, /\[redacted\]/)
})

test('a config exported as a function receives the command and --dry-run', async () => {
  const result = await check(
    {
      'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nexport default defineConfig(({ command, dryRun }) => ({ connection: { url: env('DATABASE_URL') }, pool: { max: command === 'config' && dryRun ? 3 : 9 } }))\n`,
    },
    ['config', '--json', '--dry-run'],
  )
  assert.is(result.code, 0, result.stderr)
  assert.is(JSON.parse(result.stdout).pool.max, 3)
})

test('--config points at a file elsewhere; a missing one is a usage error', async () => {
  const work = await makeWorkdir({
    'conf/ops.config.ts': `import { defineConfig } from 'dbops'\nexport default defineConfig({ connection: { url: 'postgres://a@b/c' }, pool: { max: 4 } })\n`,
  })
  try {
    const ok = await runCli(['config', '--json', '--config', 'conf/ops.config.ts'], {
      cwd: work.dir,
    })
    assert.is(ok.code, 0, ok.stderr)
    assert.is(JSON.parse(ok.stdout).pool.max, 4)
    const missing = await runCli(['config', '--config', 'nope.ts'], { cwd: work.dir })
    assert.is(missing.code, 2)
    assert.match(missing.stderr, /nope\.ts does not exist/)
  } finally {
    await work.remove()
  }
})

test('init writes a starter config that validates, and will not overwrite it', async () => {
  const work = await makeWorkdir()
  try {
    const first = await runCli(['init'], { cwd: work.dir })
    assert.is(first.code, 0, first.stderr)
    const valid = await runCli(['list'], { cwd: work.dir, env: { DATABASE_URL: NOWHERE } })
    assert.is(valid.code, 0, valid.stderr)
    assert.match(valid.stdout, /cleanup\s+0 4 \* \* \*/)
    const again = await runCli(['init'], { cwd: work.dir })
    assert.is(again.code, 2)
    assert.match(again.stderr, /already exists/)
  } finally {
    await work.remove()
  }
})

test('dbops list shows each schedule with its next run in its own time zone', async () => {
  const result = await check(
    cfg(
      `{ connection: { url: env('DATABASE_URL') }, pipelines: { backup: ['retention:apply'] }, schedules: { daily: { cron: '0 2 * * *', run: 'backup', timezone: 'America/New_York', tags: ['daily'] }, often: { cron: '*/5 * * * * *', run: 'backup' } } }`,
    ),
    ['list', '--json'],
  )
  assert.is(result.code, 0, result.stderr)
  const listed = JSON.parse(result.stdout)
  const daily = listed.schedules.find((s: { name: string }) => s.name === 'daily')
  assert.is(daily.timezone, 'America/New_York')
  const next = new Date(daily.nextRun)
  const hourThere = Number(
    new Intl.DateTimeFormat('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      hourCycle: 'h23',
    }).format(next),
  )
  assert.is(hourThere, 2)
  assert.ok(next.getTime() > Date.now() && next.getTime() - Date.now() <= 86_400_000 + 3_600_000)
  assert.equal(daily.tags, ['daily'])
  const often = listed.schedules.find((s: { name: string }) => s.name === 'often')
  assert.ok(new Date(often.nextRun).getTime() - Date.now() <= 5_000)
  assert.ok(listed.tasks.some((t: { id: string }) => t.id === 'retention:apply'))
})

test('--help for every command and --version', async () => {
  const version = await runCli(['--version'])
  assert.is(version.code, 0)
  assert.match(version.stdout, /^\d+\.\d+\.\d+/)
  for (const command of ['run', 'list', 'config', 'init', 'watch', 'runs']) {
    const help = await runCli([command, '--help'])
    assert.is(help.code, 0, command)
    assert.match(help.stdout, new RegExp(`dbops ${command}`))
  }
  const unknown = await runCli(['frobnicate'], { cwd: '/tmp' })
  assert.is(unknown.code, 2)
})

test.run()
