import type { Logger, LogLevel } from '../logger.ts'
import { scrub } from '../secrets.ts'

/**
 * The watcher's log: one line per event on stdout — JSON (`{time, level, event, message,
 * ...fields}`) for log collectors when stdout is not a TTY, or a timestamped sentence for a
 * person. Every line is scrubbed of the config's secrets (passwords, webhook and ping URLs).
 */
export function createEventLog(options: {
  json: boolean
  secrets: () => Iterable<string | undefined>
  write?: (line: string) => void
  level?: LogLevel
}): Logger {
  const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }
  const min =
    order[options.level ?? (process.env.DBOPS_LOG_LEVEL as LogLevel | undefined) ?? 'info'] ??
    order.info
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const log =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (order[level] < min) return
      const time = new Date().toISOString()
      const line = options.json
        ? JSON.stringify({ time, level, event: fields.event ?? 'log', message, ...fields })
        : `${time} ${level === 'info' ? '' : `${level.toUpperCase()} `}${message}`
      write(scrub(line, options.secrets()))
    }
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
}
