import { createRequire } from 'node:module'
import { ExitCode, UsageError } from '../errors.ts'
import { closest } from '../config/closest.ts'
import type { CommandContext } from '../plugin/types.ts'
import { parseGlobalArgs, type GlobalArgs } from './args.ts'
import { err, out, reportError } from './output.ts'
import { handleStrayRejections } from '../runner/stray-rejections.ts'

interface CoreCommand {
  summary: string
  help: () => Promise<string>
  run: (args: GlobalArgs) => Promise<number>
}

// Commands load lazily: `dbops --version` never imports listr2 or pg.
const CORE_COMMANDS: Record<string, CoreCommand> = {
  run: {
    summary: 'run pipelines or tasks once',
    help: async () => (await import('./commands/run.ts')).runHelp,
    run: async (a) => (await import('./commands/run.ts')).runCommand(a),
  },
  watch: {
    summary: 'run the schedules until stopped',
    help: async () => (await import('./commands/watch.ts')).watchHelp,
    run: async (a) => (await import('./commands/watch.ts')).watchCommand(a),
  },
  runs: {
    summary: 'recent scheduled runs from the database',
    help: async () => (await import('./commands/runs.ts')).runsHelp,
    run: async (a) => (await import('./commands/runs.ts')).runsCommand(a),
  },
  schedule: {
    summary: 'export schedules as crontab lines or Kubernetes CronJobs',
    help: async () => (await import('./commands/schedule.ts')).scheduleHelp,
    run: async (a) => (await import('./commands/schedule.ts')).scheduleCommand(a),
  },
  list: {
    summary: 'pipelines, tasks and schedules with next run times',
    help: async () => (await import('./commands/list.ts')).listHelp,
    run: async (a) => (await import('./commands/list.ts')).listCommand(a),
  },
  config: {
    summary: 'the resolved config, secrets redacted',
    help: async () => (await import('./commands/config.ts')).configHelp,
    run: async (a) => (await import('./commands/config.ts')).configCommand(a),
  },
  init: {
    summary: 'write a starter dbops.config.ts',
    help: async () => (await import('./commands/init.ts')).initHelp,
    run: async (a) => (await import('./commands/init.ts')).initCommand(a),
  },
}

// By package name, not a relative path: the built CLI is a bundle whose files sit elsewhere.
function version(): string {
  return (createRequire(import.meta.url)('dbops/package.json') as { version: string }).version
}

const USAGE = `dbops — config-as-code operations for PostgreSQL

Usage: dbops <command> [options]

Commands:
${Object.entries(CORE_COMMANDS)
  .map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`)
  .join('\n')}
  (plugins add more: backups, migrate, health, reindex — see \`dbops --help\` in a project)

Global options:
  --config <file>  config file (default: search for dbops.config.ts upwards)
  --json           one JSON document on stdout
  --dry-run        show what mutating tasks would do
  --timeout <d>    abort after a duration (30m)
  --help, --version

Exit codes: 0 ok, 1 failed, 2 usage/config error, 130 interrupted.`

export async function main(argv: string[]): Promise<number> {
  handleStrayRejections()
  let args: GlobalArgs = {
    command: undefined,
    rest: [],
    json: argv.includes('--json'),
    dryRun: false,
    help: false,
    version: false,
  }
  exitQuietlyOnClosedPipe()
  try {
    args = parseGlobalArgs(withAliases(argv))
    if (args.version) return (out(version()), ExitCode.ok)
    if (!args.command) {
      ;(args.help ? out : err)(USAGE + (await pluginCommandList(args)))
      return args.help ? ExitCode.ok : ExitCode.usage
    }
    const core = CORE_COMMANDS[args.command]
    if (core) {
      if (args.help) return (out(await core.help()), ExitCode.ok)
      return await core.run(args)
    }
    if (args.help) return await pluginCommandHelp(args)
    return await runPluginCommand(args)
  } catch (error) {
    return reportError(error, { json: args.json })
  }
}

/** `dbops help [command]` and `dbops version`, as in git and npm. */
function withAliases(argv: string[]): string[] {
  if (argv[0] === 'version') return ['--version', ...argv.slice(1)]
  if (argv[0] === 'help') return [...argv.slice(1), '--help']
  return argv
}

/**
 * `dbops list | head -1`: the reader has gone, so there is no one left to tell. Exit as
 * the shell's own tools do, without an EPIPE stack.
 */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw error
    })
  }
}

async function pluginCommandList(args: GlobalArgs): Promise<string> {
  const { pluginCommandsForHelp } = await import('./plugin-commands.ts')
  try {
    const commands = await pluginCommandsForHelp({
      configFile: args.config,
      env: { command: 'help', dryRun: false },
    })
    const lines = [...commands].map(
      ([name, { command, plugin }]) => `  ${name.padEnd(10)} ${command.summary} [${plugin}]`,
    )
    return lines.length ? `\n\nCommands of this project's plugins:\n${lines.join('\n')}` : ''
  } catch (error) {
    // No config here is the normal case outside a project; a broken one is worth a line.
    if ((error as { code?: string }).code === 'USAGE') return ''
    return `\n\nThe commands of this project's plugins are not listed: ${(error as Error).message}`
  }
}

/** `dbops <plugin command> --help` works without DATABASE_URL or a config that validates. */
async function pluginCommandHelp(args: GlobalArgs): Promise<number> {
  const name = args.command!
  const { pluginCommandsForHelp } = await import('./plugin-commands.ts')
  const commands = await pluginCommandsForHelp({
    configFile: args.config,
    env: { command: name, dryRun: false },
  })
  const entry = commands.get(name)
  if (entry) return (out(entry.command.help), ExitCode.ok)
  const near = closest(name, [...Object.keys(CORE_COMMANDS), ...commands.keys()])
  throw new UsageError(
    `unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}`,
    'Run `dbops --help` for the list of commands.',
  )
}

async function runPluginCommand(args: GlobalArgs): Promise<number> {
  const name = args.command!
  const { openSession, processSignal } = await import('../session.ts')
  const session = await openSession({
    configFile: args.config,
    env: { command: name, dryRun: args.dryRun },
  })
  const abort = processSignal(args.timeoutMs)
  try {
    const entry = session.config.commands.get(name)
    if (!entry) {
      const near = closest(name, [...Object.keys(CORE_COMMANDS), ...session.config.commands.keys()])
      throw new UsageError(
        `unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}`,
        'Run `dbops --help` for the list of commands.',
      )
    }
    const base = session.createContext({ signal: abort.signal, dryRun: args.dryRun })
    const ctx: CommandContext = {
      ...base,
      json: args.json,
      print: (line) => out(line),
      printJson: (value) => out(JSON.stringify(value, null, 2)),
    }
    const code = await entry.command.run(args.rest, ctx)
    if (abort.signal.aborted && abort.interrupted()) return ExitCode.interrupted
    return code ?? ExitCode.ok
  } catch (error) {
    const { abortedCommandError } = await import('../runner/abort.ts')
    return reportError(abortedCommandError(abort.signal, error, `dbops ${name}`), {
      json: args.json,
      secrets: session.secrets,
    })
  } finally {
    abort.dispose()
    await session.close()
  }
}
