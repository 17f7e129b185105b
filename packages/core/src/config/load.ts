import { existsSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { cosmiconfig, type Loader } from 'cosmiconfig'
import { tsImport } from 'tsx/esm/api'
import { ConfigError, DbopsError, UsageError } from '../errors.ts'
import type { ConfigEnv } from './define.ts'
import { missingEnvProblems, takeMissingEnv } from './env.ts'

export interface LoadedConfig {
  /** The object the config file exported (after calling it, if it is a function). */
  raw: Record<string, unknown>
  file: string
  dir: string
}

let generation = 0

/**
 * Imports the config through the tsx hooks the `dbops` bin registers, so the config, its
 * plugins and the CLI share one instance of `dbops` (errors, env helper). The query makes
 * a reload (SIGHUP) read the file afresh. Without registered hooks (a program importing
 * dbops under plain node), tsx's isolated `tsImport` is the fallback.
 */
const tsLoader: Loader = async (file) => {
  const url = `${pathToFileURL(file).href}?dbops=${++generation}`
  let mod: { default?: unknown }
  try {
    mod = (await import(url)) as { default?: unknown }
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
    mod = (await tsImport(url, import.meta.url)) as { default?: unknown }
  }
  return mod.default ?? mod
}

const SEARCH_PLACES = ['dbops.config.ts', 'dbops.config.mts', 'dbops.config.js', 'dbops.config.mjs', '.dbopsrc', '.dbopsrc.json', '.dbopsrc.yaml', '.dbopsrc.yml', 'package.json']

/**
 * Finds and loads the config (or `--config <file>`), reading `.env` beside it first.
 * A syntax error names the file and line; env vars the config needs but that are not set
 * are reported together.
 */
export async function loadConfig(options: { file?: string; cwd?: string; env: ConfigEnv }): Promise<LoadedConfig> {
  const explorer = cosmiconfig('dbops', {
    searchStrategy: 'project',
    searchPlaces: SEARCH_PLACES,
    loaders: { '.ts': tsLoader, '.mts': tsLoader },
  })
  const cwd = options.cwd ?? process.cwd()
  let file: string
  if (options.file) {
    file = path.resolve(cwd, options.file)
    if (!existsSync(file)) throw new UsageError(`the config file ${file} does not exist`, 'Check the --config path.')
  } else {
    let found: Awaited<ReturnType<typeof explorer.search>>
    try {
      found = await explorer.search(cwd)
    } catch (error) {
      const where = (error as { filepath?: string }).filepath ?? 'the dbops config'
      throw new DbopsError('CONFIG_LOAD_FAILED', `could not load ${where}: ${describeLoadError(error)}`, { exitCode: 2, cause: error })
    }
    if (!found) throw new UsageError(`no dbops config found in ${cwd} or above`, 'Run `dbops init` to write dbops.config.ts, or pass --config <file>.')
    file = found.filepath
  }
  const dir = path.dirname(file)
  loadDotEnv(dir)
  takeMissingEnv()
  let exported: unknown
  try {
    exported = (await explorer.load(file))?.config
  } catch (error) {
    throw new DbopsError('CONFIG_LOAD_FAILED', `could not load ${path.relative(cwd, file) || file}: ${describeLoadError(error)}`, { exitCode: 2, cause: error })
  }
  if (typeof exported === 'function') exported = await (exported as (env: ConfigEnv) => unknown)(options.env)
  const missing = takeMissingEnv()
  if (missing.length > 0) throw new ConfigError(missingEnvProblems(missing))
  if (typeof exported !== 'object' || exported === null) {
    throw new ConfigError([`(config): ${path.basename(file)} must export a config object (export default defineConfig({...}))`])
  }
  return { raw: exported as Record<string, unknown>, file, dir }
}

function loadDotEnv(dir: string): void {
  const file = path.join(dir, '.env')
  if (!existsSync(file)) return
  try {
    // Node's loader never overrides variables that are already set: the real env wins.
    process.loadEnvFile(file)
  } catch (error) {
    throw new DbopsError('DOTENV_INVALID', `could not read ${file}: ${(error as Error).message}`, { exitCode: 2 })
  }
}

/** esbuild's syntax errors carry file:line:column; keep that and drop the noise. */
function describeLoadError(error: unknown): string {
  const err = error as { message?: string; errors?: { text: string; location?: { file: string; line: number; column: number } }[] }
  const first = err.errors?.[0]
  if (first?.location) return `${first.location.file}:${first.location.line}:${first.location.column}: ${first.text}`
  const message = String(err.message ?? error)
  const syntax = /^(?:.*?\n)?(.*?:\d+:\d+: ERROR: .*)$/m.exec(message)
  return (syntax?.[1] ?? message.split('\n')[0] ?? message).trim()
}
