import { getRequestListener } from '@hono/node-server'
import type { HttpSurface } from 'dbops/plugin'
import type { DashboardOptions } from '../options.ts'
import { prepareDashboard } from './start.ts'

/**
 * `dbops watch --dashboard`: the same app on the watcher's HTTP server, beside /metrics. The
 * token comes from DBOPS_DASHBOARD_TOKEN (the watcher binds 127.0.0.1 while it serves it,
 * unless --metrics-host says otherwise).
 */
export function watchSurface(options: DashboardOptions): HttpSurface {
  return {
    summary: 'the read-only dashboard at / (beside /metrics)',
    defaultPort: options.port,
    async start(env) {
      const token = process.env.DBOPS_DASHBOARD_TOKEN || undefined
      const served = await prepareDashboard({
        config: env.config,
        logger: env.logger,
        secrets: env.secrets,
        options,
        host: env.host,
        since: options.since,
        ...(token ? { token } : {}),
      })
      const listener = getRequestListener(served.app.fetch)
      return { handle: (req, res) => void listener(req, res), close: () => served.close() }
    },
  }
}
