// The command declarations, in-process: argv in, typed values or the usage error out, and
// the help written from the same declaration. Spawned CLI runs (exit codes, stdout/stderr)
// stay in config.test.ts and first-run.test.ts.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CORE_COMMANDS, SCHEDULE_EXPORT } from '../src/cli/core-commands.ts'
import { GLOBAL_FLAGS } from '../src/cli/declaration/global-flags.ts'
import { renderHelp, renderTopLevelHelp } from '../src/cli/declaration/help.ts'
import { resolveCommand } from '../src/cli/declaration/invoke.ts'
import { parseCommandLine, splitGlobals } from '../src/cli/declaration/parse.ts'
import {
  type Command,
  type CommandContext,
  type CommandInput,
  DbopsError,
  defineCommand,
  invokeCommand,
} from '../src/plugin-kit.ts'

/** A plugin's command as a plugin declares it: a group, a dynamic default, an alias. */
function backupsLike(defaultLevel: 'checksum' | 'archive') {
  const seen: { path: string; input: CommandInput }[] = []
  const command = defineCommand({
    summary: 'list, verify and restore backup sets',
    subcommands: {
      list: defineCommand({
        summary: 'backup sets, newest first',
        flags: {
          database: { type: 'string', placeholder: 'db', description: 'only this database' },
          all: { type: 'boolean', description: 'every database' },
        },
        run: (input) => {
          const all: boolean = input.flags.all
          seen.push({ path: 'list', input })
          return all ? 1 : 0
        },
      }),
      verify: defineCommand({
        summary: 'check a set',
        args: {
          ref: { placeholder: 'id|latest', required: true, description: 'a set, or the newest' },
        },
        flags: {
          level: {
            type: 'string',
            choices: ['checksum', 'archive', 'restore'],
            default: defaultLevel,
            description: 'how deep',
          },
        },
        examples: ['dbops backups verify latest --level restore'],
        run: (input) => {
          const level: 'checksum' | 'archive' | 'restore' = input.flags.level
          const ref: string = input.args.ref
          // @ts-expect-error a declared choice is not any string
          const wide: 'checksum' = input.flags.level
          seen.push({ path: 'verify', input })
          return level === 'restore' || !ref || !wide ? 1 : 0
        },
      }),
      restore: defineCommand({
        summary: 'restore a set',
        args: { ref: { placeholder: 'id|latest', required: true } },
        flags: {
          to: {
            type: 'string',
            placeholder: 'url',
            aliases: ['target-url'],
            description: 'target',
          },
          targetDb: { type: 'string', placeholder: 'name', description: 'target on this server' },
          jobs: { type: 'number', integer: true, min: 1, default: 1, description: 'parallel jobs' },
          table: {
            type: 'string',
            multiple: true,
            placeholder: 't',
            description: 'only this table',
          },
          noOwner: { type: 'boolean', description: 'leave out ownership' },
        },
        run: (input) => {
          const jobs: number = input.flags.jobs
          const tables: string[] = input.flags.table
          const to: string | undefined = input.flags.to
          // @ts-expect-error an optional flag may be missing
          const required: string = input.flags.targetDb
          seen.push({ path: 'restore', input })
          return jobs > 0 && tables && (to ?? required) !== '' ? 0 : 1
        },
      }),
    },
  })
  return { command, seen }
}

// The commands here read nothing of their context.
const ctx = {} as CommandContext

const usage = (run: () => unknown, message: string, hint?: string) => {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof DbopsError, String(error))
    assert.is(error.code, 'USAGE')
    assert.is(error.exitCode, 2)
    assert.is(error.message, message)
    if (hint !== undefined) assert.is(error.hint, hint)
    return
  }
  assert.unreachable(`expected: ${message}`)
}

test('core commands: argv to typed values, defaults filled in from the declaration', () => {
  const cases: [keyof typeof CORE_COMMANDS, string[], Record<string, unknown>][] = [
    ['run', ['backup', '--tag', 'daily', '--tag=weekly'], { tag: ['daily', 'weekly'] }],
    ['run', ['backup', 'health'], { tag: [] }],
    [
      'watch',
      [],
      {
        metricsPort: undefined,
        metricsHost: undefined,
        serve: [],
        shutdownTimeout: 30_000,
        lease: 60_000,
        historyDays: 90,
        logFormat: undefined,
      },
    ],
    [
      'watch',
      ['--lease', '2m', '--shutdown-timeout=1500ms', '--metrics-port', '0', '--log-format', 'text'],
      {
        metricsPort: 0,
        metricsHost: undefined,
        serve: [],
        shutdownTimeout: 1500,
        lease: 120_000,
        historyDays: 90,
        logFormat: 'text',
      },
    ],
    ['runs', ['--limit', '5', '--schedule', 'nightly'], { schedule: 'nightly', limit: 5 }],
    ['runs', [], { schedule: undefined, limit: 20 }],
    ['init', ['-y'], { force: false, yes: true }],
    ['init', ['--force', '--yes'], { force: true, yes: true }],
  ]
  for (const [name, argv, flags] of cases) {
    const parsed = parseCommandLine(CORE_COMMANDS[name], argv, name)
    assert.equal(parsed.flags, flags, `${name} ${argv.join(' ')}`)
  }
  const run = parseCommandLine(CORE_COMMANDS.run, ['backup', '--tag', 'x', 'health'], 'run')
  assert.equal(run.args, { names: ['backup', 'health'] })
})

test('global flags anywhere on the command line: read first, left in place for the command', () => {
  const split = splitGlobals([
    '--json',
    '-c',
    'ops.ts',
    'run',
    'backup',
    '--timeout',
    '90s',
    '--tag',
    't',
  ])
  assert.is(split.command, 'run')
  assert.equal(split.rest, ['--json', '-c', 'ops.ts', 'backup', '--timeout', '90s', '--tag', 't'])
  assert.equal(split.globals, {
    config: 'ops.ts',
    json: true,
    dryRun: false,
    timeout: 90_000,
    help: false,
    version: false,
  })
  // The command's own parse accepts them and leaves them alone.
  assert.equal(parseCommandLine(CORE_COMMANDS.run, split.rest, 'run').flags, { tag: ['t'] })
  assert.is(splitGlobals(['list', '--config=x.ts']).globals.config, 'x.ts')
  assert.is(splitGlobals(['--dry-run']).command, undefined)
  usage(() => splitGlobals(['list', '--config']), '--config needs a value')
  usage(
    () => splitGlobals(['list', '--config', '--json']),
    '--config needs a value',
    'A value that starts with a dash is written --config=<value>.',
  )
  usage(() => splitGlobals(['list', '--timeout', 'soon']), "--timeout: 'soon' is not a duration")
  usage(() => splitGlobals(['list', '--json=yes']), '--json takes no value')
})

test('usage errors: each is one sentence and a hint, exit 2, worded from the declaration', () => {
  const table: [keyof typeof CORE_COMMANDS, string[], string, string?][] = [
    [
      'run',
      ['backup', '--hepl'],
      "dbops run: unknown option '--hepl'; did you mean '--help'?",
      'Run `dbops run --help` for its options.',
    ],
    ['run', ['backup', '--tga', 'x'], "dbops run: unknown option '--tga'; did you mean '--tag'?"],
    ['watch', ['--leas', '5s'], "dbops watch: unknown option '--leas'; did you mean '--lease'?"],
    ['init', ['-q'], "dbops init: unknown option '-q'"],
    [
      'run',
      [],
      'dbops run needs <pipeline|task...>',
      'Example: dbops run backup. `dbops list` shows the pipelines and tasks of this config.',
    ],
    ['runs', ['--limit', 'lots'], "--limit must be a whole number from 1 to 10000, not 'lots'"],
    ['runs', ['--limit', '0'], "--limit must be a whole number from 1 to 10000, not '0'"],
    ['runs', ['--limit'], '--limit needs a value'],
    ['runs', ['--limit', '5', '--limit', '6'], '--limit is given twice; give it once'],
    ['init', ['--force=yes'], '--force takes no value'],
    ['watch', ['--log-format', 'xml'], "--log-format must be json or text, not 'xml'"],
    ['watch', ['--lease', '10ms'], '--lease must be at least 1s'],
    ['watch', ['--shutdown-timeout', 'soon'], "--shutdown-timeout: 'soon' is not a duration"],
    ['watch', ['backup'], 'dbops watch takes no arguments (got backup)'],
    ['list', ['extra', 'words'], 'dbops list takes no arguments (got extra words)'],
  ]
  for (const [name, argv, message, hint] of table)
    usage(() => parseCommandLine(CORE_COMMANDS[name], argv, name), message, hint)
  usage(
    () => parseCommandLine(SCHEDULE_EXPORT, [], 'schedule export'),
    'dbops schedule export needs --format <crontab|k8s>',
    'Example: dbops schedule export --format k8s --image registry.example/app:1.4',
  )
  usage(
    () => parseCommandLine(SCHEDULE_EXPORT, ['--format', 'nomad'], 'schedule export'),
    "--format must be crontab or k8s, not 'nomad'",
  )
  const env = parseCommandLine(
    SCHEDULE_EXPORT,
    ['--format', 'k8s', '--env', 'A=1', '--env', 'B=2'],
    'x',
  )
  assert.equal(env.flags.env, ['A=1', 'B=2'])
})

test('watch: other --<name> switches are plugin surfaces, unless they look like a typo', () => {
  const parsed = parseCommandLine(CORE_COMMANDS.watch, ['--dashboard', '--serve', 'other'], 'watch')
  assert.equal(parsed.otherFlags, ['dashboard'])
  assert.equal(parsed.flags.serve, ['other'])
  usage(
    () => parseCommandLine(CORE_COMMANDS.watch, ['--metrics-prot', '9000'], 'watch'),
    "dbops watch: unknown option '--metrics-prot'; did you mean '--metrics-port'?",
  )
  // Other commands accept no such switch.
  usage(
    () => parseCommandLine(CORE_COMMANDS.list, ['--dashboard'], 'list'),
    "dbops list: unknown option '--dashboard'",
  )
})

test('a plugin command: subcommands, aliases, repeatable flags, dynamic defaults', async () => {
  const { command, seen } = backupsLike('archive')
  const cases: [string[], string, Record<string, unknown>, Record<string, unknown>][] = [
    [['list'], 'list', { database: undefined, all: false }, {}],
    [['--all', 'list'], 'list', { database: undefined, all: true }, {}],
    [['verify', 'latest'], 'verify', { level: 'archive' }, { ref: 'latest' }],
    [['verify', '--level', 'restore', 'abc'], 'verify', { level: 'restore' }, { ref: 'abc' }],
    [
      [
        'restore',
        'latest',
        '--target-url',
        'postgres://h/db',
        '--jobs=4',
        '--table',
        'a',
        '--table',
        'b',
      ],
      'restore',
      { to: 'postgres://h/db', targetDb: undefined, jobs: 4, table: ['a', 'b'], noOwner: false },
      { ref: 'latest' },
    ],
    // A subcommand's string flag before the subcommand's name: its value is not the subcommand.
    [
      ['--target-db', 'copy', 'restore', 'x'],
      'restore',
      { to: undefined, targetDb: 'copy', jobs: 1, table: [], noOwner: false },
      { ref: 'x' },
    ],
    [
      ['restore', 'x', '--target-db', 'copy', '--no-owner', '--json'],
      'restore',
      { to: undefined, targetDb: 'copy', jobs: 1, table: [], noOwner: true },
      { ref: 'x' },
    ],
  ]
  for (const [argv, path, flags, args] of cases) {
    seen.length = 0
    await invokeCommand('backups', command, argv, ctx)
    assert.is(seen[0]?.path, path, argv.join(' '))
    assert.equal(seen[0]?.input.flags, flags, argv.join(' '))
    assert.equal(seen[0]?.input.args, args, argv.join(' '))
  }
  assert.is(await invokeCommand('backups', command, ['list', '--all'], ctx), 1)
  // The default is the plugin's configured one.
  const checksum = backupsLike('checksum')
  await invokeCommand('backups', checksum.command, ['verify', 'latest'], ctx)
  assert.is(checksum.seen[0]?.input.flags.level, 'checksum')
})

test('a plugin command: unknown subcommands, missing and extra arguments, secrets kept out', async () => {
  const { command } = backupsLike('archive')
  const rejects = async (argv: string[], message: string, hint?: string) => {
    const error = await invokeCommand('backups', command, argv, ctx).then(
      () => undefined,
      (e: unknown) => e,
    )
    usage(
      () => {
        if (error) throw error
      },
      message,
      hint,
    )
  }
  await rejects(
    [],
    'name a backups command: list, verify or restore',
    'Run `dbops backups --help`.',
  )
  await rejects(['restor', 'latest'], "unknown backups command 'restor'; did you mean 'restore'?")
  await rejects(
    ['verify'],
    'dbops backups verify needs <id|latest>',
    'Example: dbops backups verify latest --level restore',
  )
  await rejects(['verify', 'a', 'b'], "dbops backups verify: unexpected argument 'b'")
  await rejects(
    ['verify', 'latest', '--level', 'deep'],
    "--level must be checksum, archive or restore, not 'deep'",
  )
  await rejects(['list', '--level', 'restore'], "dbops backups list: unknown option '--level'")
  await rejects(
    ['restore', 'latest', '--jobs', '0'],
    "--jobs must be a whole number of at least 1, not '0'",
  )
  await rejects(['restore', 'latest', '--to'], '--to needs a value')
  // A URL typed where an option was meant is shown without its password.
  await rejects(
    ['verify', 'latest', 'postgres://app:hunter2@db/app'],
    "dbops backups verify: unexpected argument 'postgres://app:[redacted]@db/app'",
  )
})

test('help: usage, options with their defaults and choices, subcommands, globals, examples', () => {
  const run = renderHelp(CORE_COMMANDS.run, 'run')
  assert.match(run, /^dbops run <pipeline\|task\.\.\.> \[options\]\n/)
  assert.match(run, /--tag <name>\s+tag the run \(recorded in backup manifests; repeatable\)/)
  assert.match(run, /Global options: --config <file>, --json, --dry-run, --timeout <d>, --help,/)
  assert.match(run, /Examples:\n {2}dbops run backup\n/)
  const watch = renderHelp(CORE_COMMANDS.watch, 'watch')
  assert.match(watch, /--shutdown-timeout <d>\s+on SIGTERM\/SIGINT.*\(default\s+30s\)/s)
  assert.match(watch, /--lease <d>\s+.*\(default 60s\)/s)
  assert.match(watch, /--log-format <json\|text>/)
  assert.match(watch, /--<surface>\s+the same as --serve <surface>/)
  assert.match(renderHelp(CORE_COMMANDS.init, 'init'), /-y, --yes\s+accept every offer/)
  for (const line of watch.split('\n')) assert.ok(line.length <= 100, line)

  const { command } = backupsLike('checksum')
  const group = renderHelp(command, 'backups')
  assert.match(group, /^dbops backups <subcommand> \[options\]/)
  assert.match(group, /\n {2}list \[--database <db>\] \[--all\]\n {6}backup sets, newest first/)
  assert.match(group, /\n {2}restore <id\|latest> \[--to <url>\] .*\[--table <t> \.\.\.\]/s)
  assert.match(group, /Run `dbops backups <subcommand> --help`/)
  const verify = resolveCommand(command, ['verify'], 'backups', 'help')
  assert.is(verify.path, 'backups verify')
  const text = renderHelp(verify.command, verify.path)
  assert.match(text, /^dbops backups verify <id\|latest> \[options\]/)
  assert.match(text, /--level <checksum\|archive\|restore>\s+how deep \(default checksum\)/)
  assert.match(text, /Arguments:\n {2}<id\|latest>\s+a set, or the newest\n/)
  assert.match(text, /Example:\n {2}dbops backups verify latest --level restore/)

  const top = renderTopLevelHelp(CORE_COMMANDS)
  assert.match(top, /Usage: dbops <command> \[options\]/)
  for (const [name, c] of Object.entries(CORE_COMMANDS))
    assert.match(top, new RegExp(`\\n {2}${name}\\s+${c.summary}\\n`))
  assert.match(top, /-c, --config <file>\s+use this config file/)
  assert.match(top, /--timeout <d>\s+abort after a duration/)
})

test('no command declares a flag that a global flag already is', () => {
  const all = (name: string, c: Command<any, any, any>): [string, Command<any, any, any>][] => [
    [name, c],
    ...Object.entries(c.subcommands ?? {}).flatMap(([sub, s]) => all(`${name} ${sub}`, s)),
  ]
  const globals = new Set([
    ...Object.keys(GLOBAL_FLAGS),
    ...Object.values(GLOBAL_FLAGS).flatMap((f) => ('short' in f ? [f.short] : [])),
  ])
  const commands = [
    ...Object.entries(CORE_COMMANDS).flatMap(([n, c]) => all(n, c)),
    ...all('backups', backupsLike('archive').command),
  ]
  for (const [name, c] of commands)
    for (const [key, spec] of Object.entries<{ short?: string }>(c.flags ?? {})) {
      assert.not.ok(globals.has(key), `${name} --${key}`)
      if (spec.short) assert.not.ok(globals.has(spec.short), `${name} -${spec.short}`)
    }
})

test.run()
