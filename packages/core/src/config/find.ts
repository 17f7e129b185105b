import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** Where a config may live, in the order they win within one directory. */
export const CONFIG_FILES = [
  'dbops.config.ts',
  'dbops.config.mts',
  'dbops.config.cts',
  'dbops.config.js',
  'dbops.config.mjs',
  'dbops.config.cjs',
  '.dbopsrc',
  '.dbopsrc.json',
  '.dbopsrc.yaml',
  '.dbopsrc.yml',
] as const

/**
 * The config file for `cwd`: the first of CONFIG_FILES (or a package.json with a `dbops`
 * key) in `cwd` or a directory above it, up to the project root (the nearest directory with
 * a package.json), as cosmiconfig's `project` strategy searches. Only file names are looked
 * at here: the file is evaluated once, by the loader, after `.env` beside it is read.
 */
export function findConfigFile(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILES) {
      const file = path.join(dir, name)
      if (existsSync(file)) return file
    }
    const pkg = path.join(dir, 'package.json')
    if (existsSync(pkg)) return hasDbopsKey(pkg) ? pkg : undefined
    if (path.dirname(dir) === dir) return undefined
  }
}

function hasDbopsKey(file: string): boolean {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null
    return typeof json === 'object' && json !== null && json.dbops !== undefined
  } catch {
    return false // a broken package.json is not this tool's config; npm reports it
  }
}
