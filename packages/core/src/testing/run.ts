import path from 'node:path'
import type { ConfigEnv, DbopsConfig } from '../config/define.ts'
import { throwIfMissingEnv } from '../config/env.ts'
import { resolveConfig, type ResolvedConfig } from '../config/resolve.ts'
import type { Context } from '../context.ts'
import { planRun } from '../runner/plan.ts'
import type { RunReport } from '../runner/report.ts'
import { runPlan } from '../runner/run.ts'
import { openSession, sessionOf } from '../session.ts'

// biome-ignore lint/suspicious/noExplicitAny: any config, whatever its plugins and tasks
type SomeConfig = DbopsConfig<any, any>
type AnyConfig = SomeConfig | ((env: ConfigEnv) => SomeConfig | Promise<SomeConfig>)

export interface TestRunOptions {
  /**
   * The config: an object (`defineConfig({...})`, e.g. with the test database's URL and the
   * plugin under test) or the path of a config file, loaded as the CLI loads it.
   */
  config: AnyConfig | string
  /** Resolves a relative config path and local storage dirs (default: process.cwd()). */
  cwd?: string
  /** Environment variables set while the config is loaded and resolved, then restored. */
  env?: Record<string, string | undefined>
  dryRun?: boolean
  tags?: string[]
  /** Aborts the run, as SIGINT or --timeout would. */
  signal?: AbortSignal
}

export interface TestRunResult {
  /** The same report `dbops run --json` prints (results redacted of secrets). */
  report: RunReport
  /** What each task returned, by task id, not redacted: for assertions. */
  results: Record<string, unknown>
}

/**
 * Runs pipelines or tasks in this process, as `dbops run <names...>` would: the config is
 * validated, plugins set up, steps run in order against the configured database and storage,
 * and every connection is closed afterwards. A failed step does not throw: look at
 * `report.status` and `report.steps`. An invalid config throws the CLI's ConfigError.
 */
export async function runPipeline(
  names: string | string[],
  options: TestRunOptions,
): Promise<TestRunResult> {
  const steps = typeof names === 'string' ? [names] : names
  const dryRun = options.dryRun ?? false
  const session = await withEnv(options.env, () =>
    openTestSession(options, { command: 'run', dryRun }),
  )
  try {
    const plan = planRun(session.config, steps)
    const ctx = session.createContext({
      signal: options.signal ?? new AbortController().signal,
      dryRun,
      tags: options.tags ?? [],
    })
    const report = await runPlan(ctx, steps, plan, { renderer: 'silent', secrets: session.secrets })
    return { report, results: ctx.results }
  } finally {
    await session.close()
  }
}

/** Runs one task (`'archive:events'`) in this process; see runPipeline. */
export async function runTask(
  id: string,
  options: TestRunOptions,
): Promise<TestRunResult & { result: unknown }> {
  const run = await runPipeline([id], options)
  return { ...run, result: run.results[id] }
}

interface TestSession {
  config: ResolvedConfig
  secrets: string[]
  createContext(options: { signal: AbortSignal; dryRun: boolean; tags: string[] }): Context
  close(): Promise<void>
}

async function openTestSession(options: TestRunOptions, env: ConfigEnv): Promise<TestSession> {
  const cwd = options.cwd ?? process.cwd()
  if (typeof options.config === 'string')
    return openSession({ configFile: options.config, cwd, env })
  const raw = typeof options.config === 'function' ? await options.config(env) : options.config
  // An inline config has no file: `dir` is where relative paths (./backups) resolve.
  throwIfMissingEnv() // env('NAME') calls made while the test built the object
  const config = resolveConfig({
    raw: raw as Record<string, unknown>,
    file: path.join(cwd, '(inline config)'),
    dir: cwd,
  })
  return sessionOf(config)
}

async function withEnv<T>(
  vars: Record<string, string | undefined> | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  if (!vars) return fn()
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
  apply(vars)
  try {
    return await fn()
  } finally {
    apply(saved)
  }
}
