import { DbopsError } from '../errors.ts'
import type { HttpHandler, HttpSurfaceEnv } from '../plugin/http.ts'

/**
 * The plugin surface `dbops watch --<name>` asked for, started for the watcher's HTTP
 * server. One at a time: it answers every path but /metrics and /healthz.
 */
export async function startPluginSurface(
  names: string[],
  env: HttpSurfaceEnv,
): Promise<HttpHandler | undefined> {
  if (names.length === 0) return undefined
  const offered = [...env.config.http.keys()]
  const unknown = names.filter((n) => !env.config.http.has(n))
  if (unknown.length) {
    throw new DbopsError(
      'WATCH_UNKNOWN_OPTION',
      `dbops watch: unknown option ${unknown.map((n) => `--${n}`).join(', ')}${offered.length ? '' : ' (no plugin of this config serves anything over HTTP)'}`,
      {
        exitCode: 2,
        hint: offered.length
          ? `The config's plugins serve: ${offered.map((n) => `--${n}`).join(', ')}. See \`dbops watch --help\` for the other options.`
          : 'See `dbops watch --help`; add the dashboard plugin to serve --dashboard.',
      },
    )
  }
  if (new Set(names).size > 1)
    throw new DbopsError(
      'WATCH_SURFACES',
      `dbops watch serves one plugin surface at a time, not ${names.map((n) => `--${n}`).join(' and ')}`,
      { exitCode: 2 },
    )
  return env.config.http.get(names[0]!)!.surface.start(env)
}

/** The port of a surface when `--metrics-port` is not given. */
export function surfacePort(
  names: string[],
  http: HttpSurfaceEnv['config']['http'],
): number | undefined {
  return names.map((n) => http.get(n)?.surface.defaultPort).find((p) => p !== undefined)
}
