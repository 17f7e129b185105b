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

/**
 * The build of every package: ESM JavaScript, bundled `.d.ts` and source maps in `dist/`.
 * Each package's entries are bundled together with code splitting, so a module shared by two
 * entries is one chunk (one instance at run time) and every `await import()` stays a lazy
 * chunk (start-up loads only what a command needs). Dependencies and `dbops` itself are
 * never bundled: a plugin's `dbops/plugin` is the CLI's.
 */
export function packageBuild(entry: Record<string, string>, options: Partial<UserConfig> = {}): UserConfig {
  return defineConfig({
    entry,
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
