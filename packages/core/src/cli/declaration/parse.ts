import { parseArgs } from 'node:util'
import { closest } from '../../config/closest.ts'
import { UsageError } from '../../errors.ts'
import type { Command } from '../../plugin/types.ts'
import { redactUrl } from '../../secrets.ts'
import { GLOBAL_FLAGS, type Globals } from './global-flags.ts'
import type { AnyFlagValue, ArgSpecs, CommandInput, FlagSpec, FlagSpecs } from './types.ts'
import { durationValue, flagName, numberValue, placeholderOf, stringValue } from './values.ts'

interface OptionToken {
  name: string
  rawName: string
  value?: string | undefined
  inlineValue?: boolean | undefined
}

interface Scanned {
  values: Record<string, AnyFlagValue>
  positionals: { value: string; index: number }[]
  unknown: OptionToken[]
}

/**
 * Reads argv against a declaration with `util.parseArgs`. Not in its strict mode: its errors
 * are Node's sentences, and dbops's are its own ("unknown option '--hepl'; did you mean
 * '--help'?"), so the tokens are checked here, to the same rules strict mode applies.
 */
function scan(flags: FlagSpecs, argv: readonly string[]): Scanned {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  const byName = new Map<string, { key: string; spec: FlagSpec }>()
  for (const [key, spec] of Object.entries(flags)) {
    const type = spec.type === 'boolean' ? 'boolean' : 'string'
    options[flagName(key)] = { type, ...(spec.short ? { short: spec.short } : {}) }
    for (const name of [flagName(key), ...(spec.aliases ?? [])]) {
      options[name] ??= { type }
      byName.set(name, { key, spec })
    }
  }
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const scanned: Scanned = { values: {}, positionals: [], unknown: [] }
  for (const token of tokens) {
    if (token.kind === 'positional') scanned.positionals.push(token)
    if (token.kind !== 'option') continue
    const known = byName.get(token.name)
    if (known) take(scanned.values, known.key, known.spec, token)
    else scanned.unknown.push(token)
  }
  return scanned
}

function take(
  values: Record<string, AnyFlagValue>,
  key: string,
  spec: FlagSpec,
  token: OptionToken,
): void {
  const name = `--${flagName(key)}`
  if (spec.type === 'boolean') {
    if (token.inlineValue) throw new UsageError(`${name} takes no value`)
    values[key] = true
    return
  }
  // `--to --clean`: parseArgs took the next option as the value; strict mode refuses that.
  const text = token.value
  if (text === undefined || (!token.inlineValue && text.length > 1 && text.startsWith('-')))
    throw new UsageError(
      `${name} needs a value`,
      text === undefined
        ? undefined
        : `A value that starts with a dash is written ${name}=<value>.`,
    )
  const previous = values[key]
  if (spec.type === 'string' && spec.multiple) {
    values[key] = [...(Array.isArray(previous) ? previous : []), stringValue(spec, text, name)]
    return
  }
  if (previous !== undefined) throw new UsageError(`${name} is given twice; give it once`)
  values[key] =
    spec.type === 'string'
      ? stringValue(spec, text, name)
      : spec.type === 'number'
        ? numberValue(spec, text, name)
        : durationValue(spec, text, name)
}

/**
 * The global flags of a whole command line, and the command it names (the first positional
 * argument); everything else is left, in order, for the command's own parse.
 */
export function splitGlobals(argv: readonly string[]): {
  globals: Globals
  command: string | undefined
  rest: string[]
} {
  const { values, positionals } = scan(GLOBAL_FLAGS, argv)
  const first = positionals[0]
  const timeout = values.timeout
  return {
    globals: {
      config: typeof values.config === 'string' ? values.config : undefined,
      json: values.json === true,
      dryRun: values.dryRun === true,
      timeout: typeof timeout === 'number' ? timeout : undefined,
      help: values.help === true,
      version: values.version === true,
    },
    command: first?.value,
    rest: argv.filter((_, i) => i !== first?.index),
  }
}

/**
 * The first positional argument: the subcommand a group command dispatches on. `flags` are
 * the ones that may stand before it (the subcommands'), so that a value they take
 * (`backups --from local verify`) is not mistaken for it.
 */
export function firstPositional(
  argv: readonly string[],
  flags: FlagSpecs = {},
): { value: string; index: number } | undefined {
  return scan({ ...flags, ...GLOBAL_FLAGS }, argv).positionals[0]
}

/** Parses a command's own command line (global flags are accepted and left to the CLI). */
export function parseCommandLine<C>(
  command: Command<FlagSpecs, ArgSpecs, C>,
  argv: readonly string[],
  path: string,
): CommandInput {
  const own = command.flags ?? {}
  const globalShorts = new Set<string>(
    Object.values(GLOBAL_FLAGS).flatMap((f) => ('short' in f ? [f.short] : [])),
  )
  for (const [key, spec] of Object.entries(own))
    if (key in GLOBAL_FLAGS || (spec.short && globalShorts.has(spec.short)))
      throw new Error(
        `dbops ${path}: --${flagName(key)} (or its short name) is taken by a global flag`,
      )
  const flags: FlagSpecs = { ...GLOBAL_FLAGS, ...own }
  const { values, positionals, unknown } = scan(flags, argv)
  const known = Object.entries(flags).flatMap(([key, spec]) => [
    `--${flagName(key)}`,
    ...(spec.aliases ?? []).map((a) => `--${a}`),
  ])
  const otherFlags = unknown.map((token) => {
    const near = closest(token.rawName, known)
    if (
      command.otherFlags &&
      !near &&
      token.value === undefined &&
      /^--[a-z][a-z0-9-]*$/.test(token.rawName)
    )
      return token.name
    throw new UsageError(
      `dbops ${path}: unknown option '${token.rawName}'${near ? `; did you mean '${near}'?` : ''}`,
      `Run \`dbops ${path} --help\` for its options.`,
    )
  })
  return {
    flags: withDefaults(own, values, command, path),
    args: assignArgs(
      command,
      positionals.map((p) => p.value),
      path,
    ),
    otherFlags,
  }
}

function withDefaults<C>(
  own: FlagSpecs,
  values: Record<string, AnyFlagValue>,
  command: Command<FlagSpecs, ArgSpecs, C>,
  path: string,
): Record<string, AnyFlagValue> {
  const flags: Record<string, AnyFlagValue> = {}
  for (const [key, spec] of Object.entries(own))
    flags[key] = values[key] ?? fallback(key, spec, command, path)
  return flags
}

/** The value of a flag left out: false, none, its default, or the error that it is required. */
function fallback<C>(
  key: string,
  spec: FlagSpec,
  command: Command<FlagSpecs, ArgSpecs, C>,
  path: string,
): AnyFlagValue {
  if (spec.type === 'boolean') return false
  if (spec.type === 'string' && spec.multiple) return []
  const name = `--${flagName(key)}`
  if (spec.default !== undefined)
    return spec.type === 'duration' ? durationValue(spec, spec.default, name) : spec.default
  if (spec.required)
    throw new UsageError(
      `dbops ${path} needs ${name} <${placeholderOf(key, spec)}>`,
      hintOf(command, path),
    )
  return undefined
}

function assignArgs<C>(
  command: Command<FlagSpecs, ArgSpecs, C>,
  positionals: string[],
  path: string,
): Record<string, string | string[] | undefined> {
  const args: Record<string, string | string[] | undefined> = {}
  let next = 0
  for (const [key, spec] of Object.entries(command.args ?? {})) {
    const taken = spec.variadic ? positionals.slice(next) : positionals[next]
    next = spec.variadic ? positionals.length : next + 1
    if (spec.required && (taken === undefined || taken.length === 0))
      throw new UsageError(
        `dbops ${path} needs <${spec.placeholder ?? key}${spec.variadic ? '...' : ''}>`,
        spec.missingHint ?? hintOf(command, path),
      )
    args[key] = taken
  }
  const extra = positionals.slice(next).map(redactUrl)
  if (extra.length === 0) return args
  if (Object.keys(command.args ?? {}).length === 0)
    throw new UsageError(
      `dbops ${path} takes no arguments (got ${extra.join(' ')})`,
      `Run \`dbops ${path} --help\`.`,
    )
  throw new UsageError(
    `dbops ${path}: unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `'${a}'`).join(' ')}`,
    `Run \`dbops ${path} --help\`.`,
  )
}

/** The hint of a usage error: the command's first example, else its help. */
function hintOf<C>(command: Command<FlagSpecs, ArgSpecs, C>, path: string): string {
  const example = command.examples?.[0]
  return example ? `Example: ${example}` : `Run \`dbops ${path} --help\`.`
}
