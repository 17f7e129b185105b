import { scrub } from './secrets.ts'

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/**
 * Logs go to stderr (stdout belongs to `--json` and command output). Every line is
 * scrubbed of the run's known secrets, whatever a caller put in it.
 */
export function createLogger(
  options: {
    level?: LogLevel
    json?: boolean
    secrets?: () => Iterable<string | undefined>
    write?: (line: string) => void
  } = {},
): Logger {
  const min =
    ORDER[options.level ?? (process.env.DBOPS_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ??
    ORDER.info
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const secrets = options.secrets ?? (() => [])
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (ORDER[level] < min) return
    const line = options.json
      ? JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })
      : `${level === 'info' ? '' : `${level}: `}${message}${fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : ''}`
    write(scrub(line, secrets()))
  }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}
