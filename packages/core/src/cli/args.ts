import { UsageError } from '../errors.ts'
import { closest } from '../config/closest.ts'

export interface GlobalArgs {
  command: string | undefined
  /** Everything after the command that is not a global option. */
  rest: string[]
  config?: string
  json: boolean
  dryRun: boolean
  timeoutMs?: number
  help: boolean
  version: boolean
}

/**
 * Splits argv into the global options every command accepts and the command's own
 * arguments, so plugin commands can parse theirs as they like.
 */
export function parseGlobalArgs(argv: string[]): GlobalArgs {
  const out: GlobalArgs = {
    command: undefined,
    rest: [],
    json: false,
    dryRun: false,
    help: false,
    version: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined]
    const value = () => {
      const v = inline ?? argv[++i]
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`)
      return v
    }
    if (flag === '--config' || flag === '-c') out.config = value()
    else if (flag === '--json') out.json = true
    else if (flag === '--dry-run') out.dryRun = true
    else if (flag === '--timeout') out.timeoutMs = parseDuration(value(), '--timeout')
    else if (flag === '--help' || flag === '-h') out.help = true
    else if (flag === '--version' || flag === '-v') out.version = true
    else if (out.command === undefined && !arg.startsWith('-')) out.command = arg
    else out.rest.push(arg)
  }
  return out
}

/** `90s`, `30m`, `2h`, `1500ms`, or a number of seconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match)
    throw new UsageError(
      `${what}: '${text}' is not a duration`,
      'Use a number with a unit: 90s, 30m, 2h.',
    )
  const n = Number(match[1])
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    (match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'
  ]
  return n * unit
}

/** Reads `--name value` / `--name=value` / `--flag` from a command's own arguments. */
export function takeOption(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a === name) {
      const v = args[i + 1]
      args.splice(i, 2)
      if (v === undefined) throw new UsageError(`${name} needs a value`)
      return v
    }
    if (a.startsWith(`${name}=`)) {
      args.splice(i, 1)
      return a.slice(name.length + 1)
    }
  }
  return undefined
}

export function takeFlag(args: string[], name: string): boolean {
  const i = args.indexOf(name)
  if (i === -1) return false
  args.splice(i, 1)
  return true
}

/** The options every command accepts (parsed by `parseGlobalArgs`). */
export const GLOBAL_OPTIONS = [
  '--config',
  '--json',
  '--dry-run',
  '--timeout',
  '--help',
  '--version',
] as const

/**
 * After a command has taken its own options from `rest`, anything left that looks like an
 * option is a typo: `dbops run backup --hepl` says so rather than looking for a pipeline.
 */
export function rejectUnknownOptions(
  command: string,
  rest: string[],
  own: readonly string[],
): void {
  const unknown = rest.find((a) => a.startsWith('-') && a !== '-')
  if (unknown === undefined) return
  const name = unknown.includes('=') ? unknown.slice(0, unknown.indexOf('=')) : unknown
  const near = closest(name, [...own, ...GLOBAL_OPTIONS])
  throw new UsageError(
    `dbops ${command}: unknown option '${name}'${near ? `; did you mean '${near}'?` : ''}`,
    `Run \`dbops ${command} --help\` for its options.`,
  )
}
