import { UsageError } from '../../errors.ts'
import type { GlobalArgs } from '../args.ts'
import { parseDuration, takeFlag, takeOption } from '../args.ts'
import { Watcher } from '../../scheduler/watcher.ts'

export const watchHelp = `dbops watch [options]

Runs the config's schedules until stopped. Each tick is claimed in the database (a small
\`dbops\` schema, created on first use), so any number of watchers on any number of machines
run each tick once; a schedule never runs over itself (overlap: skip | queue).

Options:
  --metrics-port <n>         serve Prometheus metrics on :n/metrics and a health check on :n/healthz
  --metrics-host <addr>      the address it binds (default: every address; 127.0.0.1 while a
                             plugin surface is served)
  --<surface>, --serve <s>   also serve a plugin's HTTP surface on that server, e.g. --dashboard
                             (@dbops/dashboard) at :n/ (port: the plugin's default without --metrics-port)
  --shutdown-timeout <d>     on SIGTERM/SIGINT, how long running runs may finish before they
                             are aborted (default 30s); the watcher then exits 0
  --lease <d>                run lease: renewed while a run is alive; a run of a watcher that
                             died is marked lost once its lease expired (default 60s)
  --history-days <n>         keep this many days of run history (default 90)
  --log-format json|text     one JSON line per event (default when stdout is not a TTY) or sentences
  --config <file>            use this config instead of searching for dbops.config.ts

Signals: SIGTERM/SIGINT stop gracefully (twice: abort at once); SIGHUP reloads the config —
a config that does not validate keeps the running one, runs in flight are not interrupted.

Exit codes: 0 stopped by a signal, 2 usage or config error.`

export async function watchCommand(args: GlobalArgs): Promise<number> {
  const rest = [...args.rest]
  const metricsPort = intOption(takeOption(rest, '--metrics-port'), '--metrics-port', 0, 65535)
  const metricsHost = takeOption(rest, '--metrics-host')
  const shutdownTimeoutMs = parseDuration(
    takeOption(rest, '--shutdown-timeout') ?? '30s',
    '--shutdown-timeout',
  )
  const leaseMs = parseDuration(takeOption(rest, '--lease') ?? '60s', '--lease')
  const historyDays =
    intOption(takeOption(rest, '--history-days'), '--history-days', 1, 36500) ?? 90
  const logFormat =
    takeOption(rest, '--log-format') ??
    (takeFlag(rest, '--json') || args.json ? 'json' : process.stdout.isTTY ? 'text' : 'json')
  if (logFormat !== 'json' && logFormat !== 'text')
    throw new UsageError(`--log-format must be json or text, not '${logFormat}'`)
  if (leaseMs < 1000) throw new UsageError('--lease must be at least 1s')
  const surfaces = takeSurfaces(rest) // last: every other flag is taken by now
  if (rest.length > 0)
    throw new UsageError(
      `dbops watch takes no arguments (got ${rest.join(' ')})`,
      'It runs every schedule of the config; see `dbops watch --help`.',
    )

  const watcher = new Watcher({
    configFile: args.config,
    leaseMs,
    shutdownTimeoutMs,
    historyDays,
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
  const onStop = (signal: NodeJS.Signals) => (started ? watcher.stop(signal) : (early ??= signal))
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

/** `--serve <name>` (repeatable) and any other `--<name>` flag: plugin surfaces, checked once the config is loaded. */
function takeSurfaces(rest: string[]): string[] {
  const names: string[] = []
  for (let v = takeOption(rest, '--serve'); v !== undefined; v = takeOption(rest, '--serve'))
    names.push(v)
  for (const arg of [...rest]) {
    if (!/^--[a-z][a-z0-9-]*$/.test(arg)) continue
    names.push(arg.slice(2))
    rest.splice(rest.indexOf(arg), 1)
  }
  return names
}

function intOption(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not '${value}'`)
  return n
}
