import type { Command } from '../../plugin/types.ts'
import { GLOBAL_FLAGS } from './global-flags.ts'
import type { ArgSpecs, FlagSpec, FlagSpecs } from './types.ts'
import { flagName, placeholderOf } from './values.ts'

const WIDTH = 100
/** The left column of a table is at most this wide; a longer entry has its text below it. */
const COLUMN = 28

/** `dbops <path> --help`, from the declaration: usage, text, arguments, options, globals. */
export function renderHelp<C>(command: Command<FlagSpecs, ArgSpecs, C>, path: string): string {
  const own = Object.entries(command.flags ?? {}).map(([key, spec]) => flagRow(key, spec))
  if (command.otherFlags) own.push([command.otherFlags.placeholder, command.otherFlags.description])
  const args = Object.entries(command.args ?? {})
    .filter(([, spec]) => spec.description)
    .map(([key, spec]): Row => [argUsage(key, spec), spec.description ?? ''])
  return [
    `dbops ${path}${command.subcommands ? ' <subcommand>' : argsUsage(command.args)} [options]`,
    command.description ?? `${command.summary[0]?.toUpperCase()}${command.summary.slice(1)}.`,
    args.length ? `Arguments:\n${table(args)}` : '',
    command.subcommands ? subcommandList(command.subcommands, path) : '',
    own.length ? `Options:\n${table(own)}` : '',
    wrap(['Global options:', ...globalUsage(), '(see `dbops --help`)'], 0, 2),
    command.examples?.length
      ? `Example${command.examples.length > 1 ? 's' : ''}:\n${command.examples.map((e) => `  ${e}`).join('\n')}`
      : '',
    command.notes ?? '',
  ]
    .filter(Boolean)
    .join('\n\n')
}

/** `--config <file>, --json, ...`: the global flags in a line or two, for a command's help. */
function globalUsage(): string[] {
  return Object.entries(GLOBAL_FLAGS)
    .map(([key, spec]) =>
      spec.type === 'boolean'
        ? `--${flagName(key)}`
        : `--${flagName(key)} <${placeholderOf(key, spec)}>`,
    )
    .map((usage, i, all) => (i < all.length - 1 ? `${usage},` : usage))
}

function globalRows(): Row[] {
  return Object.entries(GLOBAL_FLAGS).map(([key, spec]) => flagRow(key, spec))
}

type Row = [left: string, right: string]

function flagRow(key: string, spec: FlagSpec): Row {
  const value = spec.type === 'boolean' ? '' : ` <${placeholderOf(key, spec)}>`
  const notes: string[] = []
  if (spec.type !== 'boolean' && spec.required) notes.push('required')
  if (spec.type !== 'boolean' && spec.default !== undefined) notes.push(`default ${spec.default}`)
  if (spec.type === 'string' && spec.multiple) notes.push('repeatable')
  const { description } = spec
  // "tag the run (recorded in backup manifests; repeatable)": one parenthesis, not two.
  const text = !notes.length
    ? description
    : description.endsWith(')')
      ? `${description.slice(0, -1)}; ${notes.join('; ')})`
      : `${description} (${notes.join('; ')})`
  return [`${spec.short ? `-${spec.short}, ` : ''}--${flagName(key)}${value}`, text]
}

function argUsage(key: string, spec: ArgSpecs[string]): string {
  const name = `${spec.placeholder ?? key}${spec.variadic ? '...' : ''}`
  return spec.required ? `<${name}>` : `[${name}]`
}

function argsUsage(args: ArgSpecs | undefined): string {
  return Object.entries(args ?? {})
    .map(([key, spec]) => ` ${argUsage(key, spec)}`)
    .join('')
}

/** A group's subcommands: each one's usage with its flags, and its summary under it. */
function subcommandList<C>(
  subcommands: Readonly<Record<string, Command<FlagSpecs, ArgSpecs, C>>>,
  path: string,
): string {
  const entries = Object.entries(subcommands).map(([name, sub]) => {
    const flags = Object.entries(sub.flags ?? {}).map(([key, spec]) => {
      if (spec.type === 'boolean') return `[--${flagName(key)}]`
      const usage = `--${flagName(key)} <${placeholderOf(key, spec)}>`
      if (spec.required) return usage
      return spec.type === 'string' && spec.multiple ? `[${usage} ...]` : `[${usage}]`
    })
    const usage = wrap([`${name}${argsUsage(sub.args)}`, ...flags], 2, 6)
    return `${usage}\n${wrap(words(sub.summary), 6, 6)}`
  })
  return `Subcommands:\n${entries.join('\n')}\n\nRun \`dbops ${path} <subcommand> --help\` for the details of one.`
}

function table(rows: Row[]): string {
  const width = Math.min(COLUMN, Math.max(...rows.map(([left]) => left.length)))
  return rows
    .map(([left, right]) => {
      const text = wrap(words(right), 2 + width + 2, 2 + width + 2)
      return left.length > width
        ? `  ${left}\n${text}`
        : `  ${left.padEnd(width)}  ${text.trimStart()}`
    })
    .join('\n')
}

const words = (text: string) => text.trim().split(/\s+/)

/** Units (words, or a flag's usage) to lines of at most WIDTH, indented `first`, then `rest`. */
function wrap(units: string[], first: number, rest: number): string {
  const lines: string[] = []
  let line = ' '.repeat(first)
  for (const word of units) {
    if (line.trim() && line.length + 1 + word.length > WIDTH) {
      lines.push(line)
      line = `${' '.repeat(rest)}${word}`
    } else line += line.trim() ? ` ${word}` : word
  }
  lines.push(line)
  return lines.join('\n')
}

/** `dbops --help`: the commands of a table (the core's) and the global flags. */
export function renderTopLevelHelp(
  commands: Readonly<Record<string, { summary: string }>>,
): string {
  return `dbops — config-as-code operations for PostgreSQL

Usage: dbops <command> [options]

Commands:
${table(Object.entries(commands).map(([name, c]): Row => [name, c.summary]))}
  (plugins add more: backups, migrate, health, reindex — see \`dbops --help\` in a project)

Global options:
${table(globalRows())}

Exit codes: 0 ok, 1 failed, 2 usage/config error, 130 interrupted.`
}
