import { defineConfig, type UserConfig } from 'tsdown'

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
    dts: true,
    sourcemap: true,
    clean: true,
    report: false,
    // The dts plugin is most of the build's time, and that is expected: no warning each build.
    checks: { pluginTimings: false },
    logLevel: 'warn',
    ...options,
  })
}
