import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { REPO_ROOT, runCli } from '@dbops/test-utils'
import { loadConfig } from '../src/config/load.ts'
import { resolveConfig } from '../src/config/resolve.ts'

// Apps as users make them: outside this repository, with dbops (and what else they use)
// under node_modules, and a package.json that says "type": "commonjs", "module" or nothing.
const URL_OF = 'postgres://app@127.0.0.1:9/app'
const apps: string[] = []

async function makeApp(
  type: 'commonjs' | 'module' | undefined,
  files: Record<string, string>,
  links: Record<string, string> = {},
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-app-'))
  apps.push(dir)
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'app', private: true, ...(type ? { type } : {}) }),
  )
  for (const [name, target] of Object.entries({ dbops: 'packages/core', ...links })) {
    await mkdir(path.dirname(path.join(dir, 'node_modules', name)), { recursive: true })
    await symlink(path.join(REPO_ROOT, target), path.join(dir, 'node_modules', name))
  }
  for (const [file, content] of Object.entries(files))
    await writeFile(path.join(dir, file), content)
  return dir
}

const ESM = `import { defineConfig, env } from 'dbops'\nexport default defineConfig({ connection: { url: env('DATABASE_URL') }, pool: { max: 7 } })\n`
const CJS = `const { defineConfig, env } = require('dbops')\nmodule.exports = defineConfig({ connection: { url: env('DATABASE_URL') }, pool: { max: 7 } })\n`
// What each extension can hold: .mts/.mjs only ESM, .cts/.cjs only CommonJS; .ts and .js either.
const SYNTAXES: Record<string, ('esm' | 'cjs')[]> = {
  ts: ['esm', 'cjs'],
  mts: ['esm'],
  cts: ['cjs'],
  js: ['esm', 'cjs'],
  mjs: ['esm'],
  cjs: ['cjs'],
}
const TYPES = ['commonjs', 'module', undefined] as const

test('every config extension and syntax loads whatever the app package.json says', async () => {
  process.env.DATABASE_URL = URL_OF
  const failures: string[] = []
  for (const type of TYPES) {
    for (const [ext, syntaxes] of Object.entries(SYNTAXES)) {
      for (const syntax of syntaxes) {
        const dir = await makeApp(type, { [`dbops.config.${ext}`]: syntax === 'esm' ? ESM : CJS })
        const label = `type ${type ?? '(none)'}, dbops.config.${ext}, ${syntax}`
        try {
          const loaded = await loadConfig({ cwd: dir, env: { command: 'list', dryRun: false } })
          const config = resolveConfig(loaded)
          if (config.pool.max !== 7 || config.connection.url !== URL_OF)
            failures.push(`${label}: wrong values`)
        } catch (error) {
          failures.push(`${label}: ${(error as Error).message}`)
        }
      }
    }
  }
  delete process.env.DATABASE_URL
  assert.equal(failures, [])
})

test('loading again (a SIGHUP reload) reads the config and the local files it imports afresh', async () => {
  const cases: Record<string, Record<string, string>> = {
    ts: {
      'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport extra from './extra.ts'\nexport default defineConfig({ connection: { url: '${URL_OF}' }, pool: { max: 7, ...extra } })\n`,
      'extra.ts': 'export default { idleTimeoutMs: 1 }\n',
    },
    cjs: {
      'dbops.config.cjs': `const extra = require('./extra.cjs')\nmodule.exports = { connection: { url: '${URL_OF}' }, pool: { max: 7, ...extra } }\n`,
      'extra.cjs': 'module.exports = { idleTimeoutMs: 1 }\n',
    },
    // Node's own loader caches ES modules it imports: the config is re-read, its imports are not.
    mjs: {
      'dbops.config.mjs': `import extra from './extra.mjs'\nexport default { connection: { url: '${URL_OF}' }, pool: { max: 7, ...extra } }\n`,
      'extra.mjs': 'export default { idleTimeoutMs: 1 }\n',
    },
  }
  for (const [ext, files] of Object.entries(cases)) {
    const dir = await makeApp('module', files)
    const load = async () =>
      (await loadConfig({ cwd: dir, env: { command: 'watch', dryRun: false } })).raw.pool
    assert.equal(await load(), { max: 7, idleTimeoutMs: 1 }, ext)
    for (const [file, content] of Object.entries(files))
      await writeFile(
        path.join(dir, file),
        content.replace('max: 7', 'max: 8').replace('idleTimeoutMs: 1', 'idleTimeoutMs: 2'),
      )
    assert.equal(await load(), { max: 8, idleTimeoutMs: ext === 'mjs' ? 1 : 2 }, ext)
  }
})

test('a CommonJS app (npm init -y) runs the TypeScript config dbops init writes', async () => {
  const dir = await makeApp('commonjs', { 'dbops.config.ts': ESM })
  const list = await runCli(['config', '--json'], { cwd: dir, env: { DATABASE_URL: URL_OF } })
  assert.is(list.code, 0, list.stderr)
  assert.is(JSON.parse(list.stdout).pool.max, 7)
})

test('the config is evaluated once per command', async () => {
  const counter = 'evaluations.log'
  const dir = await makeApp('module', {
    'dbops.config.ts': `import { appendFileSync } from 'node:fs'\nimport { defineConfig } from 'dbops'\nappendFileSync(new URL('./${counter}', import.meta.url), 'x')\nexport default defineConfig({ connection: { url: '${URL_OF}' } })\n`,
  })
  const result = await runCli(['list'], { cwd: dir })
  assert.is(result.code, 0, result.stderr)
  assert.is(await readFile(path.join(dir, counter), 'utf8'), 'x')
})

test('a config that exports null, nothing or no default, or whose function rejects, exits 2 naming the file', async () => {
  const cases: [string, string, RegExp][] = [
    [
      'export default null\n',
      'dbops.config.ts',
      /the config could not be loaded: dbops\.config\.ts exports null, not a config object/,
    ],
    [
      'export const config = {}\n',
      'dbops.config.ts',
      /the config could not be loaded: dbops\.config\.ts has no default export/,
    ],
    [
      'module.exports = undefined\n',
      'dbops.config.cjs',
      /the config could not be loaded: dbops\.config\.cjs exports nothing/,
    ],
    [
      `export default async () => { throw new Error('the vault is sealed') }\n`,
      'dbops.config.ts',
      /the config could not be loaded: dbops\.config\.ts: the vault is sealed/,
    ],
    [
      `export default () => null\n`,
      'dbops.config.mjs',
      /the config could not be loaded: the function dbops\.config\.mjs exports returned null/,
    ],
    [
      `import { defineConfig } from 'dbops'\nthrow new Error('no region configured')\n`,
      'dbops.config.ts',
      /the config could not be loaded: dbops\.config\.ts: no region configured/,
    ],
    [
      `import health from '@dbops/helth'\nexport default { plugins: [health()] }\n`,
      'dbops.config.ts',
      /the config could not be loaded: dbops\.config\.ts: .*@dbops\/helth/,
    ],
  ]
  for (const [source, file, expected] of cases) {
    const dir = await makeApp('module', { [file]: source })
    const result = await runCli(['list'], { cwd: dir, env: { DATABASE_URL: URL_OF } })
    assert.is(result.code, 2, `${source}\n${result.stderr}`)
    assert.match(result.stderr, expected)
    assert.not.match(result.stderr, /\n\s+at /, 'no stack trace')
  }
})

test('a syntax error in a file the config imports names that file and line', async () => {
  const dir = await makeApp('module', {
    'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport extra from './extra.ts'\nexport default defineConfig({ connection: { url: '${URL_OF}' }, ...extra })\n`,
    'extra.ts': `export default {\n  pool: { max: 3 \n  retention: {}\n}\n`,
  })
  const result = await runCli(['list'], { cwd: dir })
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /the config could not be loaded: extra\.ts:3:\d+: /)
})

test('a config error names the file; unset env vars are all reported; a DbopsError thrown by the config keeps its hint', async () => {
  const invalid = await makeApp('commonjs', {
    'dbops.config.cts': `module.exports = { connection: { url: '${URL_OF}' }, pooll: {} }\n`,
  })
  const bad = await runCli(['list'], { cwd: invalid })
  assert.is(bad.code, 2)
  assert.match(
    bad.stderr,
    /The dbops config dbops\.config\.cts is not valid:\n\s+pooll: unknown key \(did you mean 'pool'\?\)/,
  )

  const unset = await makeApp('module', {
    'dbops.config.mjs': `import { defineConfig, env } from 'dbops'\nexport default defineConfig({ connection: { url: env('APP_DB_URL'), readReplicaUrl: env('APP_REPLICA_URL') } })\n`,
  })
  const missing = await runCli(['list'], { cwd: unset })
  assert.is(missing.code, 2)
  assert.match(missing.stderr, /env\.APP_DB_URL: the environment variable APP_DB_URL is not set/)
  assert.match(missing.stderr, /env\.APP_REPLICA_URL: /)

  const hinted = await makeApp(undefined, {
    'dbops.config.ts': `import { DbopsError } from 'dbops/plugin'\nexport default () => { throw new DbopsError('SECRETS_LOCKED', 'the secrets file is locked', { hint: 'Run unlock-secrets first.' }) }\n`,
  })
  const hint = await runCli(['list'], { cwd: hinted })
  assert.is(hint.code, 2)
  assert.match(
    hint.stderr,
    /the config could not be loaded: dbops\.config\.ts: the secrets file is locked\n\s+Run unlock-secrets first\./,
  )
})

test('a plugin command --help works without DATABASE_URL or valid plugin options', async () => {
  const dir = await makeApp(
    'commonjs',
    {
      'dbops.config.ts': `import { defineConfig, env } from 'dbops'\nimport migrate from '@dbops/migrate-sql'\nexport default defineConfig({ connection: { url: env('DATABASE_URL') }, plugins: [migrate({ dir: 42 } as any)] })\n`,
    },
    { '@dbops/migrate-sql': 'packages/migrate-sql' },
  )
  const help = await runCli(['migrate', '--help'], { cwd: dir })
  assert.is(help.code, 0, help.stderr)
  assert.match(help.stdout, /dbops migrate <subcommand>/)
  const all = await runCli(['--help'], { cwd: dir })
  assert.is(all.code, 0, all.stderr)
  assert.match(all.stdout, /migrate\s+.*\[@dbops\/migrate-sql\]/)
  const unknown = await runCli(['migrat', '--help'], { cwd: dir })
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /unknown command 'migrat'; did you mean 'migrate'\?/)
})

test('only the config and the app files it imports are transpiled; dbops, its plugins and zod load natively, once', async () => {
  const dir = await makeApp(
    'commonjs',
    {
      'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport health from '@dbops/health'\nimport local from './local-plugin.ts'\nexport default defineConfig({ connection: { url: '${URL_OF}' }, plugins: [health(), local()] })\n`,
      'local-plugin.ts': `import { definePlugin, DbopsError } from 'dbops/plugin'\nimport { z } from 'zod'\nexport default definePlugin({ name: 'local', namespace: 'local', options: z.strictObject({}), setup: () => ({ tasks: { fail: { title: 'fails', run: async () => { throw new DbopsError('LOCAL_FAILED', 'the local task failed', { hint: 'Fix the local thing.' }) } } } }) })\n`,
    },
    { '@dbops/health': 'packages/health', zod: 'packages/core/node_modules/zod' },
  )
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'dbops-jiti-cache-'))
  apps.push(tmp)
  const result = await runCli(['run', 'local:fail'], { cwd: dir, env: { TMPDIR: tmp } })
  assert.is(result.code, 1, result.stderr)
  // The local plugin's DbopsError is the CLI's: its message and hint print as a user error.
  assert.match(result.stderr, /the local task failed/)
  assert.match(result.stderr, /Fix the local thing\./)
  // jiti keeps what it transpiled in $TMPDIR/jiti: the config and the local plugin, nothing of dbops.
  const transpiled = (await readdir(path.join(tmp, 'jiti')))
    .map((f) => f.replace(/\.[0-9a-f]+\.\w+$/, ''))
    .sort()
  assert.equal(transpiled, [
    `${path.basename(dir)}-dbops.config`,
    `${path.basename(dir)}-local-plugin`,
  ])
})

test.after(async () => {
  for (const dir of apps) await rm(dir, { recursive: true, force: true })
})

test.run()
