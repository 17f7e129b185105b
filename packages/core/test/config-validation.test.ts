// Config validation in this process, as tables (ESLint's RuleTester): each row is a config
// and either the resolved shape it must produce or the exact problems it must be refused
// with, all at once. The resolver reads no environment but the one a row gives, and touches
// no database. config.test.ts keeps the spawned cases, where the process is the point: the
// exit codes, what goes to stderr, CLI flags.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { z } from 'zod'
import { makeWorkdir } from '@dbops/test-utils'
import { loadConfig } from '../src/config/load.ts'
import { resolveConfig, type ResolvedConfig } from '../src/config/resolve.ts'
import { ConfigError } from '../src/errors.ts'
import { definePlugin } from '../src/plugin/define.ts'

const URL = 'postgres://u:pw-not-shown-1234@127.0.0.1:9/app'

const acme = definePlugin({
  name: 'acme',
  namespace: 'acme',
  options: z.strictObject({ days: z.number().int(), label: z.string().default('acme') }),
  setup: () => ({ tasks: { sweep: { title: 'sweep', run: async () => 'swept' } } }),
})
const acmeTwin = definePlugin({
  name: 'acme-two',
  namespace: 'acme',
  options: z.strictObject({}),
  setup: () => ({ tasks: {} }),
})
const broken = definePlugin({
  name: 'broken',
  namespace: 'broken',
  options: z.strictObject({}),
  setup: () => {
    throw new Error('no key file')
  },
})

interface Row {
  name: string
  config: Record<string, unknown>
  /** The environment the resolver sees (conventional names: DATABASE_URL, DB_CONNECTION_LIMIT, ...). */
  env?: Record<string, string>
}
interface Valid extends Row {
  /** A part of the resolved config (arrays and primitives exact); `tasks` lists the task ids. */
  resolves: Record<string, unknown>
}
interface Invalid extends Row {
  /** Every problem, in order, as `path: message` lines. */
  problems: string[]
}

/** The resolved config as rows describe it: a plain object, the task registry as its ids. */
function view(config: ResolvedConfig): Record<string, unknown> {
  return { ...config, tasks: [...config.tasks.keys()] }
}

/** `expected` is a part of `actual`: objects by their listed keys, anything else exactly. */
function assertShape(actual: unknown, expected: unknown, where: string): void {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    assert.type(actual, 'object', where)
    for (const [key, value] of Object.entries(expected))
      assertShape((actual as Record<string, unknown>)[key], value, `${where}.${key}`)
    return
  }
  assert.equal(actual, expected, where)
}

function resolve(row: Row): ResolvedConfig {
  return resolveConfig(
    { raw: row.config, file: '/app/dbops.config.ts', dir: '/app' },
    row.env ?? {},
  )
}

const DEFAULT_POOL = {
  max: 20,
  idleTimeoutMs: 30_000,
  maxLifetimeMs: 1_800_000,
  connectTimeoutMs: 10_000,
  queryTimeoutMs: 20_000,
  statementTimeoutMs: 0,
}

const VALID: Valid[] = [
  {
    name: 'a URL alone: every default from the schema',
    config: { connection: { url: URL } },
    resolves: {
      connection: { url: URL, applicationName: 'dbops' },
      pool: DEFAULT_POOL,
      storage: { local: { dir: './backups' } },
      retention: { maxAgeDays: 30, keepLast: 0, minKeep: 3 },
      schedules: {},
      pipelines: {},
      notify: [],
      tasks: ['retention:apply'],
      file: '/app/dbops.config.ts',
      dir: '/app',
    },
  },
  {
    name: 'conventional env names fill the keys the config leaves out, coerced',
    config: { connection: {} },
    env: {
      DATABASE_URL: URL,
      DATABASE_READ_REPLICA_URL: 'postgres://r@replica/app',
      DB_CONNECTION_LIMIT: '7',
      DB_QUERY_TIMEOUT: '1234',
      DB_MAX_IDLE_TIME: '4000',
      DB_MAX_LIFE_TIME: '60000',
      BACKUP_RETENTION_DAYS: '9',
      BACKUP_DIR: '/var/backups/app',
    },
    resolves: {
      connection: { url: URL, readReplicaUrl: 'postgres://r@replica/app' },
      pool: {
        ...DEFAULT_POOL,
        max: 7,
        queryTimeoutMs: 1234,
        idleTimeoutMs: 4000,
        maxLifetimeMs: 60_000,
      },
      retention: { maxAgeDays: 9 },
      storage: { local: { dir: '/var/backups/app' } },
    },
  },
  {
    name: 'what the config says wins over the env names',
    config: {
      connection: { url: URL },
      pool: { max: 3 },
      storage: { disk: { dir: './here' } },
      retention: { maxAgeDays: 0 },
    },
    env: {
      DATABASE_URL: 'postgres://other/db',
      DB_CONNECTION_LIMIT: '7',
      BACKUP_DIR: '/elsewhere',
      BACKUP_RETENTION_DAYS: '9',
    },
    resolves: {
      connection: { url: URL },
      pool: { max: 3 },
      storage: { disk: { dir: './here' } },
      retention: { maxAgeDays: 0 },
    },
  },
  {
    name: 'host and database instead of a URL: DATABASE_URL is not mixed in',
    config: { connection: { host: 'db', database: 'app', port: '6432' } },
    env: { DATABASE_URL: URL },
    resolves: { connection: { url: undefined, host: 'db', database: 'app', port: 6432 } },
  },
  {
    name: 'DB_SSL_REJECT_UNAUTHORIZED=false turns certificate checks off',
    config: { connection: { url: URL } },
    env: { DB_SSL_REJECT_UNAUTHORIZED: 'false' },
    resolves: { connection: { ssl: { rejectUnauthorized: false } } },
  },
  {
    name: 'a schedule gets its defaults: no tags, no jitter, skip overlaps, no catch-up',
    config: {
      connection: { url: URL },
      pipelines: { backup: ['retention:apply'] },
      schedules: { nightly: { cron: '0 2 * * *', run: 'backup' } },
    },
    resolves: {
      schedules: {
        nightly: {
          cron: '0 2 * * *',
          run: 'backup',
          tags: [],
          jitterMs: 0,
          overlap: 'skip',
          catchUp: 'none',
        },
      },
    },
  },
  {
    name: 'a schedule in a time zone, with seconds, running a pipeline and a task',
    config: {
      connection: { url: URL },
      pipelines: { backup: ['retention:apply'] },
      schedules: {
        often: {
          cron: '*/5 * * * * *',
          run: ['backup', 'retention:apply'],
          timezone: 'America/New_York',
          tags: ['often'],
          overlap: 'queue',
          catchUp: 'latest',
          ping: 'https://hc-ping.com/abc',
        },
      },
    },
    resolves: {
      schedules: {
        often: {
          run: ['backup', 'retention:apply'],
          timezone: 'America/New_York',
          tags: ['often'],
          overlap: 'queue',
          catchUp: 'latest',
          ping: 'https://hc-ping.com/abc',
        },
      },
    },
  },
  {
    name: 'pipelines of tasks, other pipelines, parallel groups and continueOnError steps',
    config: {
      connection: { url: URL },
      plugins: [acme({ days: 3 })],
      pipelines: {
        clean: ['retention:apply'],
        nightly: [
          { parallel: ['acme:sweep', 'clean'] },
          { task: 'acme:sweep', continueOnError: true },
          'clean',
        ],
      },
    },
    resolves: {
      pipelines: {
        clean: ['retention:apply'],
        nightly: [
          { parallel: ['acme:sweep', 'clean'] },
          { task: 'acme:sweep', continueOnError: true },
          'clean',
        ],
      },
    },
  },
  {
    name: "a plugin's options are validated with its schema, defaults applied; its tasks are namespaced",
    config: { connection: { url: URL }, plugins: [acme({ days: 3 })] },
    resolves: {
      pluginOptions: { acme: { days: 3, label: 'acme' } },
      tasks: ['retention:apply', 'acme:sweep'],
    },
  },
  {
    name: 'retention per destination, and grandfather-father-son counts',
    config: {
      connection: { url: URL },
      storage: { local: { dir: './b' }, offsite: { dir: './o' } },
      retention: { gfs: { daily: 7 }, destinations: { offsite: { maxAgeDays: 365 } } },
    },
    resolves: {
      retention: {
        maxAgeDays: 30,
        gfs: { daily: 7, weekly: 0, monthly: 0 },
        destinations: { offsite: { maxAgeDays: 365, keepLast: 0, minKeep: 3 } },
      },
    },
  },
  {
    name: 'a webhook gets its defaults: failures and recoveries, as JSON',
    config: { connection: { url: URL }, notify: [{ webhook: 'https://hooks.example.com/T/B/x' }] },
    resolves: {
      notify: [
        { webhook: 'https://hooks.example.com/T/B/x', on: ['failure', 'recovery'], format: 'json' },
      ],
    },
  },
]

const NO_DATABASE =
  'connection: no database to connect to: set connection.url (or DATABASE_URL) or connection.host and connection.database'
const USERINFO =
  'a URL with a user name or password cannot be sent (fetch refuses it); use the token in the path or query the service gives you (the URL is not shown here)'

const INVALID: Invalid[] = [
  {
    name: 'every problem at once: bad values, an unknown key with a suggestion',
    config: {
      connection: { url: URL },
      pool: { max: 'many', idleTimeoutMs: -1 },
      poool: {},
      retention: { maxAgeDays: 1.5 },
    },
    problems: [
      'pool.max: expected a number',
      'pool.idleTimeoutMs: must be at least 0',
      'retention.maxAgeDays: expected a whole number',
      "poool: unknown key (did you mean 'pool'?)",
    ],
  },
  { name: 'no connection at all', config: { connection: {} }, problems: [NO_DATABASE] },
  { name: 'no connection key at all', config: {}, problems: [NO_DATABASE] },
  {
    name: 'a bad env value is reported like a bad config value',
    config: { connection: {} },
    env: { DATABASE_URL: URL, DB_CONNECTION_LIMIT: 'lots' },
    problems: ['pool.max: expected a number'],
  },
  {
    name: 'a port out of range',
    config: { connection: { host: 'db', port: 70000 } },
    problems: ['connection.port: must be at most 65535'],
  },
  {
    name: 'ssl neither a boolean nor options',
    config: { connection: { url: URL, ssl: { rejectUnauthorized: 'yes' } } },
    problems: ['connection.ssl.rejectUnauthorized: expected boolean, received string'],
  },
  {
    name: 'a pipeline that includes itself, and an unknown step with a suggestion',
    config: {
      connection: { url: URL },
      pipelines: { a: ['b'], b: ['a'], c: ['retention:aply'] },
    },
    problems: [
      "pipelines.c[0]: 'retention:aply' is neither a task nor a pipeline (did you mean 'retention:apply'?)",
      'pipelines.a: includes itself (a -> b -> a)',
      'pipelines.b: includes itself (b -> a -> b)',
    ],
  },
  {
    name: 'an unknown step inside a parallel group',
    config: {
      connection: { url: URL },
      pipelines: { p: [{ parallel: ['retention:apply', 'nope:x'] }] },
    },
    problems: ["pipelines.p[0].parallel[1]: 'nope:x' is neither a task nor a pipeline"],
  },
  {
    name: 'an empty pipeline',
    config: { connection: { url: URL }, pipelines: { p: [] } },
    problems: ['pipelines.p: must not be empty'],
  },
  {
    name: 'malformed steps: an empty parallel group, an empty task, an unknown shape',
    config: {
      connection: { url: URL },
      pipelines: { p: [{ parallel: [] }, { task: '' }, { tsk: 'x' }] },
    },
    problems: [
      'pipelines.p[0].parallel: must not be empty',
      'pipelines.p[1].task: must not be empty',
      "pipelines.p[2]: expected a task or pipeline name, { parallel: [...] } or { task: '...', continueOnError: true }",
    ],
  },
  {
    name: 'an invalid cron and an unknown time zone name their schedule',
    config: {
      connection: { url: URL },
      pipelines: { p: ['retention:apply'] },
      schedules: {
        nightly: { cron: '61 * * *', run: 'p' },
        berlin: { cron: '0 2 * * *', run: 'p', timezone: 'Europe/Berln' },
      },
    },
    problems: [
      "schedules.nightly.cron: invalid cron expression '61 * * *': Constraint error, got value 61 expected range 0-23",
      "schedules.berlin.timezone: unknown time zone 'Europe/Berln' (use an IANA name such as Europe/Berlin)",
    ],
  },
  {
    name: 'a cron of seven fields',
    config: {
      connection: { url: URL },
      pipelines: { p: ['retention:apply'] },
      schedules: { s: { cron: '0 0 0 * * * *', run: 'p' } },
    },
    problems: [
      "schedules.s.cron: invalid cron expression '0 0 0 * * * *': Invalid cron expression, too many fields",
    ],
  },
  {
    name: 'a schedule of nothing, a negative jitter, an unknown overlap',
    config: {
      connection: { url: URL },
      schedules: { s: { cron: '0 * * * *', run: [], overlap: 'wait', jitterMs: -1 } },
    },
    problems: [
      'schedules.s.run: must not be empty',
      'schedules.s.jitterMs: must be at least 0',
      'schedules.s.overlap: expected one of "skip", "queue"',
    ],
  },
  {
    name: 'a schedule running what does not exist (checked once the shapes are valid)',
    config: { connection: { url: URL }, schedules: { ghost: { cron: '0 2 * * *', run: 'nope' } } },
    problems: ["schedules.ghost.run: 'nope' is neither a pipeline nor a task"],
  },
  {
    name: 'one unknown target among several a schedule runs',
    config: {
      connection: { url: URL },
      pipelines: { p: ['retention:apply'] },
      schedules: { s: { cron: '0 * * * *', run: ['p', 'ghost'] } },
    },
    problems: ["schedules.s.run: 'ghost' is neither a pipeline nor a task"],
  },
  {
    name: 'plugin options are validated with the rest, named by plugin',
    config: {
      connection: { url: URL },
      pool: { max: 0 },
      plugins: [acme({ days: 'x', dayz: 1 } as never)],
    },
    problems: [
      'pool.max: must be more than 0',
      'plugins[0](acme).days: expected a number',
      "plugins[0](acme).dayz: unknown key (did you mean 'days'?)",
    ],
  },
  {
    name: 'two plugins in one namespace',
    config: { connection: { url: URL }, plugins: [acme({ days: 1 }), acmeTwin()] },
    problems: ["plugins: 'acme-two' and 'acme' both use the namespace 'acme'"],
  },
  {
    name: 'a plugin whose setup throws is named with the reason',
    config: { connection: { url: URL }, plugins: [broken()] },
    problems: ['plugins(broken): setup failed: no key file'],
  },
  {
    name: 'a plugin factory not called',
    config: { connection: { url: URL }, plugins: [{}] },
    problems: ['plugins[0]: expected a plugin instance: call the plugin factory, e.g. health()'],
  },
  {
    name: 'a storage with an empty dir, and one that is neither a dir nor a factory',
    config: { connection: { url: URL }, storage: { local: { dir: '' }, other: 5 } },
    problems: [
      'storage.local.dir: must not be empty',
      'storage.other: expected { dir } for a local directory or a storage factory such as s3({...})',
    ],
  },
  {
    name: 'retention: a negative GFS count, a bad and an unknown per-destination key',
    config: {
      connection: { url: URL },
      retention: { gfs: { daily: -1 }, destinations: { local: { keepLast: 'x', extra: 1 } } },
    },
    problems: [
      'retention.gfs.daily: must be at least 0',
      'retention.destinations.local.keepLast: expected a number',
      'retention.destinations.local.extra: unknown key',
    ],
  },
  {
    name: 'webhooks: not http(s), with a password, not a URL, an unknown event',
    config: {
      connection: { url: URL },
      notify: [
        { webhook: 'ftp://x/y' },
        { webhook: 'https://u:p@hooks.example.com/x' },
        { webhook: 'nope', on: ['always'] },
      ],
    },
    problems: [
      'notify[0].webhook: must be an http or https URL, not ftp:',
      `notify[1].webhook: ${USERINFO}`,
      'notify[2].webhook: not a URL (expected https://host/path)',
      'notify[2].on[0]: expected one of "failure", "recovery", "success"',
    ],
  },
  {
    name: 'a ping URL with a password',
    config: {
      connection: { url: URL },
      pipelines: { p: ['retention:apply'] },
      schedules: { s: { cron: '0 * * * *', run: 'p', ping: 'https://user:pw@hc-ping.com/abc' } },
    },
    problems: [`schedules.s.ping: ${USERINFO}`],
  },
]

for (const row of VALID)
  test(`valid: ${row.name}`, () => {
    assertShape(view(resolve(row)), row.resolves, 'config')
  })

for (const row of INVALID)
  test(`invalid: ${row.name}`, () => {
    let error: unknown
    try {
      resolve(row)
    } catch (e) {
      error = e
    }
    assert.instance(error, ConfigError, 'refused with a ConfigError')
    const refused = error as ConfigError
    assert.equal(refused.problems, row.problems)
    assert.is(refused.exitCode, 2)
    assert.not.ok(refused.message.includes('pw-not-shown-1234'), 'no password in the message')
  })

// Configs as files, loaded as the CLI loads them (jiti, .env beside the file), in this process.
interface Loaded {
  name: string
  files: Record<string, string>
  env?: Record<string, string>
  command?: { command: string; dryRun: boolean }
  resolves?: Record<string, unknown>
  problems?: string[]
  /** For errors that are not a list of problems: the message. */
  message?: RegExp
}

const file = (body: string) =>
  `import { defineConfig, env } from 'dbops'\nexport default defineConfig(${body})\n`

const LOADED: Loaded[] = [
  {
    name: 'every env var the config reads but is not set is named, all of them',
    files: {
      'dbops.config.ts': file(
        `{ connection: { url: env('MY_DB_URL'), readReplicaUrl: env('MY_REPLICA_URL') } }`,
      ),
    },
    problems: [
      'env.MY_DB_URL: the environment variable MY_DB_URL is not set (export it or put it in .env beside the config)',
      'env.MY_REPLICA_URL: the environment variable MY_REPLICA_URL is not set (export it or put it in .env beside the config)',
    ],
  },
  {
    name: '.env beside the config is read; a variable already set wins',
    files: {
      'dbops.config.ts': file(`{ connection: {} }`),
      '.env': 'DB_CONNECTION_LIMIT=7\nDB_MAX_IDLE_TIME=1\n',
    },
    env: { DB_MAX_IDLE_TIME: '4000' },
    resolves: { pool: { max: 7, idleTimeoutMs: 4000 } },
  },
  {
    name: 'a config exported as a function receives the command and dryRun',
    files: {
      'dbops.config.ts': `import { defineConfig } from 'dbops'\nexport default defineConfig(({ command, dryRun }) => ({ connection: { url: '${URL}' }, pool: { max: command === 'config' && dryRun ? 3 : 9 } }))\n`,
    },
    command: { command: 'config', dryRun: true },
    resolves: { pool: { max: 3 } },
  },
  {
    name: 'a syntax error names the file and the line',
    files: {
      'dbops.config.ts': `import { defineConfig } from 'dbops'\n\nexport default defineConfig({\n  connection: { url: 'postgres://x/y' \n  pool: {}\n})\n`,
    },
    message: /^the config could not be loaded: .*dbops\.config\.ts:5:\d+/s,
  },
]

/** Runs `fn` with `vars` set in process.env, then puts the environment back as it was. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const before = { ...process.env }
  Object.assign(process.env, vars)
  try {
    return await fn()
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in before)) delete process.env[key]
    Object.assign(process.env, before)
  }
}

for (const row of LOADED)
  test(`loaded: ${row.name}`, async () => {
    const work = await makeWorkdir(row.files)
    try {
      const outcome = await withEnv(row.env ?? {}, async () => {
        try {
          const loaded = await loadConfig({
            cwd: work.dir,
            env: row.command ?? { command: 'list', dryRun: false },
          })
          return { config: resolveConfig(loaded, { ...process.env, DATABASE_URL: URL }) }
        } catch (error) {
          return { error: error as Error & { problems?: string[]; exitCode?: number } }
        }
      })
      if (row.resolves) {
        assert.ok(outcome.config, outcome.error?.message)
        assertShape(view(outcome.config), row.resolves, 'config')
        return
      }
      assert.ok(outcome.error, 'refused')
      assert.is(outcome.error.exitCode, 2)
      if (row.problems) assert.equal(outcome.error.problems, row.problems)
      if (row.message) assert.match(outcome.error.message, row.message)
    } finally {
      await work.remove()
    }
  })

test.run()
