import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { HttpHandler } from '../plugin/http.ts'
import type { WatchMetrics } from './metrics.ts'

export interface Health {
  ok: boolean
  [key: string]: unknown
}

/**
 * `GET /metrics` (Prometheus text format) and `GET /healthz` (200 while the watcher is
 * alive and not behind on its ticks, 503 otherwise, with a JSON body saying why). Every
 * other path goes to the plugin surface when one is served (`dbops watch --dashboard`).
 */
export async function startMetricsServer(
  port: number,
  metrics: WatchMetrics,
  health: () => Health,
  options: { host?: string; surface?: HttpHandler } = {},
): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    const own = path === '/metrics' || path === '/healthz' || path === '/health'
    if (!own && options.surface) return options.surface.handle(req, res)
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end()
    if (path === '/metrics') {
      metrics.render().then(
        ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        (error: Error) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${error.message}\n`),
      )
      return
    }
    if (path === '/healthz' || path === '/health') {
      const h = health()
      return void res
        .writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(h)}\n`)
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: try /metrics or /healthz\n')
  })
  server.keepAliveTimeout = 5000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    if (options.host) server.listen(port, options.host, () => resolve())
    else server.listen(port, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      await options.surface?.close?.()
    },
  }
}
