import { z } from 'zod'
import { formatBytes, formatDuration } from 'dbops/plugin'

/**
 * Units of check values. Thresholds in the config may be written with units
 * (`'5m'`, `'90%'`, `'100MB'`); internally every value is a plain number in the base unit.
 */
export type Unit = 'seconds' | 'ms' | 'percent' | 'bytes' | 'count' | 'rate' | 'version'

const DURATION_UNITS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  sec: 1,
  m: 60,
  min: 60,
  h: 3600,
  d: 86400,
}
const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
}

/** Parses one threshold written in `unit`; throws a sentence when it does not parse. */
export function parseThreshold(input: number | string, unit: Unit): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0)
      throw new Error(`${input} is not a usable threshold (expected a non-negative number)`)
    return input
  }
  const text = input.trim().toLowerCase()
  const match = /^(\d+(?:\.\d+)?)\s*([a-z%]*)$/.exec(text)
  if (!match) throw new Error(`'${input}' is not a ${describeUnit(unit)}`)
  const n = Number(match[1])
  const suffix = match[2] ?? ''
  if (unit === 'seconds' || unit === 'ms') {
    const factor = suffix === '' ? (unit === 'ms' ? 0.001 : 1) : DURATION_UNITS[suffix]
    if (factor === undefined) throw new Error(`'${input}' is not a ${describeUnit(unit)}`)
    return unit === 'ms' ? n * factor * 1000 : n * factor
  }
  if (unit === 'bytes') {
    const factor = BYTE_UNITS[suffix === '' ? 'b' : suffix.replace(/ib$/, 'b')]
    if (factor === undefined) throw new Error(`'${input}' is not a ${describeUnit(unit)}`)
    return n * factor
  }
  if (unit === 'percent') {
    if (suffix !== '' && suffix !== '%')
      throw new Error(`'${input}' is not a ${describeUnit(unit)}`)
    if (n > 100) throw new Error(`'${input}' is more than 100%`)
    return n
  }
  if (suffix !== '') throw new Error(`'${input}' is not a ${describeUnit(unit)}`)
  return n
}

function describeUnit(unit: Unit): string {
  switch (unit) {
    case 'seconds':
    case 'ms':
      return 'duration (write 500ms, 90s, 5m, 2h or 1d)'
    case 'bytes':
      return 'size (write 512kB, 100MB or 5GB)'
    case 'percent':
      return 'percentage (write 90 or 90%)'
    default:
      return 'number'
  }
}

/** A zod schema for one threshold in `unit`: a number, a string with a unit, or null (level disabled). */
export function thresholdSchema(unit: Unit) {
  return z.union([z.number(), z.string(), z.null()]).transform((value, ctx): number | null => {
    if (value === null) return null
    try {
      return parseThreshold(value, unit)
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message })
      return z.NEVER
    }
  })
}

/** Status of one value against warning/critical thresholds. */
export function compare(
  value: number | null,
  warning: number | null,
  critical: number | null,
  direction: 'above' | 'below',
): 'ok' | 'warning' | 'critical' {
  if (value === null || Number.isNaN(value)) return 'ok'
  const breaches = (limit: number | null) =>
    limit !== null && (direction === 'above' ? value >= limit : value <= limit)
  if (breaches(critical)) return 'critical'
  if (breaches(warning)) return 'warning'
  return 'ok'
}

/** The loosest threshold set: objects below it are not worth listing. */
export function listingFloor(warning: number | null, critical: number | null): number | null {
  if (warning !== null && critical !== null) return Math.min(warning, critical)
  return warning ?? critical
}

export function formatValue(value: number | null | undefined, unit: Unit): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '-'
  switch (unit) {
    case 'seconds':
      return formatDuration(value * 1000)
    case 'ms':
      return value >= 10_000 ? formatDuration(value) : `${round(value)} ms`
    case 'percent':
      return `${round(value)}%`
    case 'bytes':
      return formatBytes(value)
    case 'rate':
      return `${round(value)}/h`
    case 'version':
      return String(value)
    default:
      return Number.isInteger(value) ? value.toLocaleString('en-US') : String(round(value))
  }
}

function round(n: number): number {
  return Math.abs(n) >= 100 ? Math.round(n) : Math.round(n * 10) / 10
}
