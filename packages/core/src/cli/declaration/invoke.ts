import { closest } from '../../config/closest.ts'
import { UsageError } from '../../errors.ts'
import type { Command } from '../../plugin/types.ts'
import { firstPositional, parseCommandLine } from './parse.ts'
import type { ArgSpecs, FlagSpecs } from './types.ts'
import { orList } from './values.ts'

interface Resolved<C> {
  command: Command<FlagSpecs, ArgSpecs, C>
  /** `backups restore`: how the messages and the help name it. */
  path: string
  argv: string[]
}

/**
 * Follows a group's subcommands by the first positional argument. For the help, a group
 * named without a subcommand is the answer; to run, it is a usage error.
 */
export function resolveCommand<C>(
  command: Command<FlagSpecs, ArgSpecs, C>,
  argv: readonly string[],
  path: string,
  purpose: 'run' | 'help' = 'run',
): Resolved<C> {
  let found: Resolved<C> = { command, path, argv: [...argv] }
  while (found.command.subcommands) {
    const names = Object.keys(found.command.subcommands)
    const subFlags = Object.values(found.command.subcommands).map((s) => s.flags ?? {})
    const first = firstPositional(found.argv, Object.assign({}, ...subFlags))
    if (!first && purpose === 'help') break
    if (!first)
      throw new UsageError(
        `name a ${found.path} command: ${orList(names)}`,
        `Run \`dbops ${found.path} --help\`.`,
      )
    const sub = Object.hasOwn(found.command.subcommands, first.value)
      ? found.command.subcommands[first.value]
      : undefined
    if (!sub) {
      const near = closest(first.value, names)
      throw new UsageError(
        `unknown ${found.path} command '${first.value}'${near ? `; did you mean '${near}'?` : ''}`,
        `One of: ${orList(names)}. Run \`dbops ${found.path} --help\`.`,
      )
    }
    found = {
      command: sub,
      path: `${found.path} ${first.value}`,
      argv: found.argv.filter((_, i) => i !== first.index),
    }
  }
  return found
}

/**
 * Runs a command from its command line: `invokeCommand('migrate', migrate, ['status'], ctx)`
 * is `dbops migrate status`, in this process. The CLI runs every command through it.
 */
export async function invokeCommand<C>(
  name: string,
  command: Command<FlagSpecs, ArgSpecs, C>,
  argv: readonly string[],
  ctx: C,
): Promise<number | undefined> {
  const found = resolveCommand(command, argv, name)
  const input = parseCommandLine(found.command, found.argv, found.path)
  if (!found.command.run) throw new Error(`dbops ${found.path} has neither run nor subcommands`)
  return found.command.run(input, ctx)
}
