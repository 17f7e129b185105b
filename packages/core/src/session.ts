import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { Context } from './context.ts'
import type { ConfigEnv } from './config/define.ts'
import { invalidIntro, loadConfig, type LoadedConfig } from './config/load.ts'
import { resolveConfig, type ResolvedConfig } from './config/resolve.ts'
import { Db } from './db/db.ts'
import { ConfigError } from './errors.ts'
import { createLogger, type Logger } from './logger.ts'
import { timeoutReason } from './runner/abort.ts'
import { collectSecrets } from './secrets.ts'

export { collectSecrets }

export interface Session {
  config: ResolvedConfig
  logger: Logger
  /** Every secret value known from the config, for scrubbing output. */
  secrets: string[]
  createContext(options: { signal: AbortSignal; dryRun: boolean; tags?: string[] }): Context
  close(): Promise<void>
}

/** Loads and validates the config (nothing connects yet) and prepares contexts for runs. */
export async function openSession(options: {
  configFile?: string
  cwd?: string
  env: ConfigEnv
  json?: boolean
}): Promise<Session> {
  const loaded = await loadConfig({ file: options.configFile, cwd: options.cwd, env: options.env })
  const config = resolveNamingFile(loaded, options.cwd ?? process.cwd())
  return sessionOf(config)
}

/** A session over a resolved config: contexts for runs, their secrets, and one close for all. */
export function sessionOf(config: ResolvedConfig): Session {
  const contexts: Context[] = []
  const secrets: string[] = collectSecrets(config)
  const logger = createLogger({ secrets: () => secrets })
  return {
    config,
    logger,
    secrets,
    createContext({ signal, dryRun, tags = [] }) {
      const db = new Db(config.connection, config.pool)
      secrets.push(
        ...[db.target.password, db.replicaTarget?.password].filter((s): s is string => !!s),
      )
      const ctx: Context = {
        config,
        logger,
        db,
        storage: config.createStorage(),
        signal,
        dryRun,
        runId: randomUUID(),
        tags,
        results: {},
      }
      contexts.push(ctx)
      return ctx
    },
    async close() {
      for (const ctx of contexts) {
        await ctx.db.close().catch(() => {})
        for (const storage of ctx.storage.values()) await storage.close?.()
      }
      await config.close()
    },
  }
}

/** Resolves the config; its problems are reported under the name of the file they are in. */
function resolveNamingFile(loaded: LoadedConfig, cwd: string): ResolvedConfig {
  try {
    return resolveConfig(loaded)
  } catch (error) {
    if (error instanceof ConfigError)
      throw new ConfigError(
        error.problems,
        invalidIntro(path.relative(cwd, loaded.file) || loaded.file),
      )
    throw error
  }
}

/** The one AbortController of a CLI process: SIGINT/SIGTERM and --timeout abort it. */
export function processSignal(timeoutMs?: number): {
  signal: AbortSignal
  interrupted: () => boolean
  dispose(): void
} {
  const controller = new AbortController()
  let interrupted = false
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(130) // second Ctrl-C: leave now
    interrupted = true
    controller.abort(
      Object.assign(new Error(`interrupted by ${name}`), {
        name: 'AbortError',
        code: 'INTERRUPTED',
      }),
    )
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  const timer = timeoutMs
    ? setTimeout(() => controller.abort(timeoutReason(timeoutMs)), timeoutMs)
    : undefined
  timer?.unref()
  return {
    signal: controller.signal,
    interrupted: () => interrupted,
    dispose() {
      clearTimeout(timer)
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}
