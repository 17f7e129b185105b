import { DbopsError, type Logger, type ResolvedConfig, collectSecrets } from 'dbops/plugin'
import { Collector } from '../collect/collector.ts'
import type { DashboardOptions } from '../options.ts'
import { createApp } from './app.ts'
import { isLoopback } from './auth.ts'

export interface Served {
  app: ReturnType<typeof createApp>
  collector: Collector
  close(): Promise<void>
}

/**
 * The collector and the app for one address. Refuses (exit 2) to serve a non-loopback
 * address without a token; reads every source once before the first request is answered.
 */
export async function prepareDashboard(env: {
  config: ResolvedConfig
  logger: Logger
  secrets?: readonly string[]
  options: DashboardOptions
  host: string
  token?: string
  since: string
}): Promise<Served> {
  if (!isLoopback(env.host) && !env.token) {
    throw new DbopsError(
      'DASHBOARD_TOKEN_REQUIRED',
      `the dashboard would be reachable from other machines on ${env.host}, and it has no token`,
      {
        exitCode: 2,
        hint: 'Set DBOPS_DASHBOARD_TOKEN (or --token) to a long random value, or bind 127.0.0.1 and reach it through an SSH tunnel.',
      },
    )
  }
  const secrets = [
    ...new Set([
      ...collectSecrets(env.config),
      ...(env.secrets ?? []),
      ...(env.token ? [env.token] : []),
    ]),
  ]
  const collector = new Collector({
    config: env.config,
    logger: env.logger,
    secrets,
    options: env.options,
    since: env.since,
  })
  await collector.refresh()
  collector.start()
  const app = createApp({
    collector,
    options: env.options,
    schedules: env.config.schedules,
    ...(env.token ? { token: env.token } : {}),
  })
  return { app, collector, close: () => collector.close() }
}
