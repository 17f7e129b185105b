import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

/** What a module that has no default export gives instead of a config. */
export const NO_DEFAULT: unique symbol = Symbol('no default export')

/**
 * Evaluates the config file once and returns what it exports: the default export of an ES
 * module, `module.exports` of a CommonJS one, the `dbops` key of package.json, the content
 * of a JSON or YAML rc file.
 */
export async function importConfig(file: string): Promise<unknown> {
  const base = path.basename(file)
  if (base === 'package.json')
    return (JSON.parse(await readFile(file, 'utf8')) as { dbops?: unknown }).dbops
  if (base.startsWith('.dbopsrc')) return readRcFile(file)
  return configExport(await importModule(file))
}

const loadedNatively = new Set<string>()
let reloads = 0

/**
 * jiti evaluates the config whatever the app's package.json says: TypeScript (.ts, .mts,
 * .cts) and JavaScript, ES module or CommonJS syntax. It transpiles only the config and the
 * app's own files it imports; packages (dbops itself, its plugins, zod) are imported
 * natively, so the config shares the one instance of dbops the CLI runs. Each load is a
 * fresh evaluation (no module cache), which is what a SIGHUP reload needs.
 */
async function importModule(file: string): Promise<unknown> {
  forgetCommonJs(path.dirname(file))
  // A module jiti handed to Node's own loader is cached there: a new URL loads it again.
  if (loadedNatively.has(file))
    return import(`${pathToFileURL(file).href}?dbops-reload=${++reloads}`)
  // Required, not imported: importing jiti's ESM entry makes Node scan its 190 kB CommonJS
  // bundle for named exports first (~30 ms of every command).
  const { createJiti } = createRequire(import.meta.url)('jiti') as typeof import('jiti')
  const jiti = createJiti(import.meta.url, { moduleCache: false })
  try {
    const mod = await jiti.import(file)
    if (isNamespace(mod)) loadedNatively.add(file)
    return mod
  } catch (error) {
    // jiti 2.7's interop proxy fails on `export default null` when the promise checks `then`.
    if (
      error instanceof TypeError &&
      error.message.includes("(reading 'then')") &&
      /[\\/]jiti[\\/]/.test(error.stack?.split('\n')[1] ?? '')
    )
      return { default: null }
    throw error
  }
}

/** The app's CommonJS files under `dir` (not its packages) are evaluated again on the next load. */
function forgetCommonJs(dir: string): void {
  const cache = createRequire(import.meta.url).cache
  for (const key of Object.keys(cache)) {
    if (key.startsWith(dir + path.sep) && !key.includes(`${path.sep}node_modules${path.sep}`))
      delete cache[key]
  }
}

/**
 * The config a module exports: the default export of an ES module, `module.exports` of a
 * CommonJS one. jiti's interop gives the default export as `default`, or the module itself
 * when there is none.
 */
function configExport(mod: unknown): unknown {
  if (isNamespace(mod) && !('default' in (mod as object))) return NO_DEFAULT
  if (typeof mod !== 'object' || mod === null) return mod
  const value = (mod as { default?: unknown }).default
  const isModule =
    isNamespace(value) ||
    (typeof value === 'object' &&
      value !== null &&
      (value as { __esModule?: unknown }).__esModule === true)
  if (isModule)
    return 'default' in (value as object) ? (value as { default: unknown }).default : NO_DEFAULT
  return value
}

function isNamespace(value: unknown): boolean {
  return Object.prototype.toString.call(value) === '[object Module]'
}

async function readRcFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8')
  // cosmiconfig's parsers, loaded only for these rarely used formats.
  const { defaultLoaders } = await import('cosmiconfig')
  return (file.endsWith('.json') ? defaultLoaders['.json'] : defaultLoaders['.yaml'])(file, text)
}
