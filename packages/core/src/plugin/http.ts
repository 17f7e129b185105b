import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ResolvedConfig } from '../config/resolve.ts'
import type { Logger } from '../logger.ts'

/**
 * An HTTP surface a plugin offers to `dbops watch`: `dbops watch --<name>` (or `--serve
 * <name>`) serves it on the watcher's HTTP server, beside `/metrics` and `/healthz`, which
 * stay the watcher's. Core knows no surface; the dashboard plugin is one.
 */
export interface HttpSurface {
  summary: string
  /** The port used when `--metrics-port` is not given. */
  defaultPort?: number
  /**
   * Prepares the handler before the server listens: throw a DbopsError (exit 2) to refuse,
   * e.g. a non-loopback `host` without the token the surface requires.
   */
  start(env: HttpSurfaceEnv): Promise<HttpHandler>
}

export interface HttpSurfaceEnv {
  /** The config the watcher started with (connection secrets included: never print it). */
  config: ResolvedConfig
  logger: Logger
  /** Every secret value known from the config, for scrubbing. */
  secrets: readonly string[]
  /** The address the server binds: `127.0.0.1`, `0.0.0.0`, `::`. */
  host: string
}

export interface HttpHandler {
  /** Answers every request that is not `/metrics` or `/healthz`. */
  handle(req: IncomingMessage, res: ServerResponse): void
  close?(): Promise<void>
}
