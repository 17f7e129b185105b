import { Watcher } from '../../scheduler/watcher.ts'
import type { CoreInput } from '../core-commands.ts'
import type { Globals } from '../declaration/global-flags.ts'

export async function watchCommand(
  { flags, otherFlags }: CoreInput<'watch'>,
  globals: Globals,
): Promise<number> {
  const { metricsPort, metricsHost } = flags
  const logFormat = flags.logFormat ?? (globals.json || !process.stdout.isTTY ? 'json' : 'text')
  // Surfaces are checked once the config is loaded: only then is it known what plugins serve.
  const surfaces = [...flags.serve, ...otherFlags]

  const watcher = new Watcher({
    configFile: globals.config,
    leaseMs: flags.lease,
    shutdownTimeoutMs: flags.shutdownTimeout,
    historyDays: flags.historyDays,
    json: logFormat === 'json',
    ...(metricsPort !== undefined || surfaces.length > 0
      ? {
          createMetrics: async (pool) =>
            (await import('../../scheduler/metrics.ts')).createWatchMetrics(pool),
          serveMetrics: async (metrics, health, loaded) => {
            const { startPluginSurface, surfacePort } = await import(
              '../../scheduler/plugin-http.ts'
            )
            // A surface (a dashboard) is a person's page: loopback unless the user opens it up.
            const host = metricsHost ?? (surfaces.length ? '127.0.0.1' : undefined)
            const port = metricsPort ?? surfacePort(surfaces, loaded.config.http) ?? 0
            const surface = await startPluginSurface(surfaces, {
              ...loaded,
              host: host ?? '0.0.0.0',
            })
            try {
              return await (await import('../../scheduler/metrics-server.ts')).startMetricsServer(
                port,
                metrics,
                health,
                { host, surface },
              )
            } catch (error) {
              await surface?.close?.()
              throw error
            }
          },
        }
      : {}),
  })
  // Signals that arrive while the config loads are acted on once the watcher runs.
  let started = false
  let early: NodeJS.Signals | undefined
  const onStop = (signal: NodeJS.Signals) => {
    if (started) watcher.stop(signal)
    else early ??= signal
  }
  const onHup = () => void (started && watcher.reload())
  process.on('SIGTERM', onStop)
  process.on('SIGINT', onStop)
  process.on('SIGHUP', onHup)
  try {
    await watcher.start()
    started = true
    if (early) watcher.stop(early)
    return await watcher.stopped
  } finally {
    process.off('SIGTERM', onStop)
    process.off('SIGINT', onStop)
    process.off('SIGHUP', onHup)
  }
}
