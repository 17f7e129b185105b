import { existsSync } from 'node:fs'
import path from 'node:path'
import { ConfigError, DbopsError, ExitCode, UsageError } from '../errors.ts'
import type { ConfigEnv } from './define.ts'
import { missingEnvProblems, takeMissingEnv } from './env.ts'
import { findConfigFile } from './find.ts'
import { importConfig, NO_DEFAULT } from './import-config.ts'

export interface LoadedConfig {
  /** The object the config file exported (after calling it, if it is a function). */
  raw: Record<string, unknown>
  file: string
  dir: string
}

const EXPORT_HINT =
  'Export the config object: `export default defineConfig({ connection: ..., plugins: [...] })`, or `module.exports = defineConfig({...})` in CommonJS.'

/**
 * Finds the config (or takes `--config <file>`), reads `.env` beside it, then evaluates it
 * once. Env vars the config needs but that are not set are reported together; anything
 * else that stops the config from giving an object names the file and exits 2.
 */
export async function loadConfig(options: {
  file?: string
  cwd?: string
  env: ConfigEnv
  /** For help only: a config that reads unset env vars still gives its plugins. */
  allowMissingEnv?: boolean
}): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd()
  let file: string | undefined
  if (options.file) {
    file = path.resolve(cwd, options.file)
    if (!existsSync(file))
      throw new UsageError(`the config file ${file} does not exist`, 'Check the --config path.')
  } else {
    file = findConfigFile(cwd)
    if (!file)
      throw new UsageError(
        `no dbops config found in ${cwd} or above`,
        'Run `dbops init` to write dbops.config.ts, or pass --config <file>.',
      )
  }
  const dir = path.dirname(file)
  const shown = path.relative(cwd, file) || file
  loadDotEnv(dir)
  takeMissingEnv()
  let exported: unknown
  let fromFunction = false
  try {
    exported = await importConfig(file)
    if (typeof exported === 'function') {
      fromFunction = true
      exported = await (exported as (env: ConfigEnv) => unknown)(options.env)
    }
  } catch (error) {
    // A config that read a missing variable usually fails because of it: say that first.
    const missing = takeMissingEnv()
    if (missing.length > 0 && !options.allowMissingEnv)
      throw new ConfigError(missingEnvProblems(missing), invalidIntro(shown))
    if (error instanceof DbopsError && error.exitCode === ExitCode.usage) throw error
    throw new DbopsError(
      'CONFIG_LOAD_FAILED',
      `the config could not be loaded: ${describeLoadError(error, shown, cwd)}`,
      {
        exitCode: ExitCode.usage,
        hint: error instanceof DbopsError ? error.hint : hintFor(error),
        cause: error,
      },
    )
  }
  const missing = takeMissingEnv()
  if (missing.length > 0 && !options.allowMissingEnv)
    throw new ConfigError(missingEnvProblems(missing), invalidIntro(shown))
  if (typeof exported !== 'object' || exported === null || Array.isArray(exported)) {
    const what = fromFunction
      ? `the function ${shown} exports returned ${describeValue(exported)}`
      : `${shown} ${exported === NO_DEFAULT ? 'has no default export' : `exports ${describeValue(exported)}`}`
    throw new DbopsError(
      'CONFIG_LOAD_FAILED',
      `the config could not be loaded: ${what}, not a config object`,
      { exitCode: ExitCode.usage, hint: EXPORT_HINT },
    )
  }
  return { raw: exported as Record<string, unknown>, file, dir }
}

/** The first line of a config error, naming the file the problems are in. */
export function invalidIntro(shown: string): string {
  return `The dbops config ${shown} is not valid`
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}

function hintFor(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND')
    return 'Check the import path, or install the package it names.'
  return undefined
}

function loadDotEnv(dir: string): void {
  const file = path.join(dir, '.env')
  if (!existsSync(file)) return
  try {
    // Node's loader never overrides variables that are already set: the real env wins.
    process.loadEnvFile(file)
  } catch (error) {
    throw new DbopsError('DOTENV_INVALID', `could not read ${file}: ${(error as Error).message}`, {
      exitCode: 2,
    })
  }
}

/**
 * Where and why, on one line. A syntax error (jiti's babel: "ParseError: <what>" then
 * file:line:column) names the line, in the config or in a file it imports; anything else
 * keeps its first line, after the config's name.
 */
function describeLoadError(error: unknown, shown: string, cwd: string): string {
  const message = String((error as { message?: unknown } | null)?.message ?? error)
  const parse = /^(?:\w+Error: )?(.*?)\s*\n\s*(\S+):(\d+):(\d+)\s*$/.exec(message)
  if (parse)
    return `${path.relative(cwd, parse[2]!) || parse[2]}:${parse[3]}:${parse[4]}: ${parse[1]}`
  return `${shown}: ${(message.split('\n')[0] ?? message).trim()}`
}
