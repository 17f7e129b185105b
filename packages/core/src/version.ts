import { createRequire } from 'node:module'

let cached: string | undefined

/**
 * The version of dbops (the CLI and this kit), as its package.json says. By package name, not a
 * relative path: the built CLI and the plugins are bundles whose files sit elsewhere.
 */
export function dbopsVersion(): string {
  cached ??= (createRequire(import.meta.url)('dbops/package.json') as { version: string }).version
  return cached
}
