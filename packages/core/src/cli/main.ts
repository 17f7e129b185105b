import { createRequire } from 'node:module'
import { closest } from '../config/closest.ts'
import { ExitCode, UsageError } from '../errors.ts'
import type { Command, CommandContext } from '../plugin/types.ts'
import { handleStrayRejections } from '../runner/stray-rejections.ts'
import { CORE_COMMANDS } from './core-commands.ts'
import type { Globals } from './declaration/global-flags.ts'
import { renderHelp, renderTopLevelHelp } from './declaration/help.ts'
import { invokeCommand, resolveCommand } from './declaration/invoke.ts'
import { splitGlobals } from './declaration/parse.ts'
import type { ArgSpecs, FlagSpecs } from './declaration/types.ts'
import { err, out, reportError } from './output.ts'

const CORE: Readonly<Record<string, Command<FlagSpecs, ArgSpecs, Globals>>> = CORE_COMMANDS

// By package name, not a relative path: the built CLI is a bundle whose files sit elsewhere.
function version(): string {
  return (createRequire(import.meta.url)('dbops/package.json') as { version: string }).version
}

export async function main(argv: string[]): Promise<number> {
  handleStrayRejections()
  exitQuietlyOnClosedPipe()
  let json = argv.includes('--json')
  try {
    const { globals, command: name, rest } = splitGlobals(withAliases(argv))
    json = globals.json
    if (globals.version) {
      out(version())
      return ExitCode.ok
    }
    if (!name) {
      const usage = renderTopLevelHelp(CORE) + (await pluginCommandList(globals))
      if (!globals.help) err(usage)
      else out(usage)
      return globals.help ? ExitCode.ok : ExitCode.usage
    }
    const core = Object.hasOwn(CORE, name) ? CORE[name] : undefined
    if (core && globals.help) {
      const found = resolveCommand(core, rest, name, 'help')
      out(renderHelp(found.command, found.path))
      return ExitCode.ok
    }
    if (core) return (await invokeCommand(name, core, rest, globals)) ?? ExitCode.ok
    if (globals.help) return await pluginCommandHelp(name, rest, globals)
    return await runPluginCommand(name, rest, globals)
  } catch (error) {
    return reportError(error, { json })
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

function unknownCommand(name: string, others: Iterable<string>): UsageError {
  const near = closest(name, [...Object.keys(CORE), ...others])
  return new UsageError(
    `unknown command '${name}'${near ? `; did you mean '${near}'?` : ''}`,
    'Run `dbops --help` for the list of commands.',
  )
}

async function pluginCommandList(globals: Globals): Promise<string> {
  const { pluginCommandsForHelp } = await import('./plugin-commands.ts')
  try {
    const commands = await pluginCommandsForHelp({
      configFile: globals.config,
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
async function pluginCommandHelp(name: string, rest: string[], globals: Globals): Promise<number> {
  const { pluginCommandsForHelp } = await import('./plugin-commands.ts')
  const commands = await pluginCommandsForHelp({
    configFile: globals.config,
    env: { command: name, dryRun: false },
  })
  const entry = commands.get(name)
  if (!entry) throw unknownCommand(name, commands.keys())
  const found = resolveCommand(entry.command, rest, name, 'help')
  out(renderHelp(found.command, found.path))
  return ExitCode.ok
}

async function runPluginCommand(name: string, rest: string[], globals: Globals): Promise<number> {
  const { openSession, processSignal } = await import('../session.ts')
  const session = await openSession({
    configFile: globals.config,
    env: { command: name, dryRun: globals.dryRun },
  })
  const abort = processSignal(globals.timeout)
  try {
    const entry = session.config.commands.get(name)
    if (!entry) throw unknownCommand(name, session.config.commands.keys())
    const ctx: CommandContext = {
      ...session.createContext({ signal: abort.signal, dryRun: globals.dryRun }),
      json: globals.json,
      print: (line) => out(line),
      printJson: (value) => out(JSON.stringify(value, null, 2)),
    }
    const code = await invokeCommand(name, entry.command, rest, ctx)
    if (abort.signal.aborted && abort.interrupted()) return ExitCode.interrupted
    return code ?? ExitCode.ok
  } catch (error) {
    const { abortedCommandError } = await import('../runner/abort.ts')
    return reportError(abortedCommandError(abort.signal, error, `dbops ${name}`), {
      json: globals.json,
      secrets: session.secrets,
    })
  } finally {
    abort.dispose()
    await session.close()
  }
}
