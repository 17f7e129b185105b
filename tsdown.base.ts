import { readFileSync } from 'node:fs'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { defineConfig, type UserConfig } from 'tsdown'

/**
 * The declarations get no maps (they would point at src/, which is not shipped), but the
 * bundler still ends each .d.ts with a sourceMappingURL comment: drop that dangling line.
 */
async function dropDeclarationMapComments(outDir: string): Promise<void> {
  for (const file of await readdir(outDir)) {
    if (!file.endsWith('.d.ts')) continue
    const full = path.join(outDir, file)
    const text = await readFile(full, 'utf8')
    const kept = text.replace(/\n\/\/# sourceMappingURL=\S+\.d\.ts\.map\s*$/, '\n')
    if (kept !== text) await writeFile(full, kept)
  }
}

type ExportTarget = string | { 'dbops-source'?: string; types?: string }

/**
 * The entries of the package in the current directory, read from its `exports`: each subpath
 * names its source (the workspace's `dbops-source` condition) and its built file
 * (`types: ./dist/<name>.d.ts`). Adding a subpath export is an edit of package.json only.
 */
export function exportedEntries(): Record<string, string> {
  const manifest = JSON.parse(readFileSync('package.json', 'utf8')) as {
    name: string
    exports?: Record<string, ExportTarget>
  }
  const entries: Record<string, string> = {}
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target === 'string') continue
    const source = target['dbops-source']
    const name = /^\.\/dist\/(.+)\.d\.ts$/.exec(target.types ?? '')?.[1]
    if (!source || !name)
      throw new Error(
        `${manifest.name}: exports["${subpath}"] needs "dbops-source": "./src/….ts" and "types": "./dist/<name>.d.ts"`,
      )
    entries[name] = source
  }
  return entries
}

/**
 * The build of every package: ESM JavaScript, bundled `.d.ts` and source maps in `dist/`.
 * Each package's entries are bundled together with code splitting, so a module shared by two
 * entries is one chunk (one instance at run time) and every `await import()` stays a lazy
 * chunk (start-up loads only what a command needs). Dependencies and `dbops` itself are
 * never bundled: a plugin's `dbops/plugin` is the CLI's.
 */
export function packageBuild(
  extraEntries: Record<string, string> = {},
  options: Partial<UserConfig> = {},
): UserConfig {
  return defineConfig({
    entry: { ...exportedEntries(), ...extraEntries },
    format: 'esm',
    platform: 'node',
    outDir: 'dist',
    fixedExtension: false,
    // No declaration maps: they would point at src/, which is not shipped.
    dts: { sourcemap: false },
    sourcemap: true,
    clean: true,
    report: false,
    // The dts plugin is most of the build's time, and that is expected: no warning each build.
    checks: { pluginTimings: false },
    hooks: { 'build:done': async ({ options }) => dropDeclarationMapComments(options.outDir) },
    logLevel: 'warn',
    ...options,
  })
}
