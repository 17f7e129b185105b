import { UsageError } from './errors.ts'

/** `90s`, `30m`, `2h`, `1500ms`, or a number of seconds. */
export function parseDuration(text: string, what: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match)
    throw new UsageError(
      `${what}: '${text}' is not a duration`,
      'Use a number with a unit: 90s, 30m, 2h.',
    )
  const n = Number(match[1])
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[
    (match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'
  ]
  return n * unit
}
