import { z } from 'zod'
import { parseDuration } from 'dbops/plugin'

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 }

/** `10MB`, `512kB`, `1.5GB`, or a number of bytes. Units are powers of 1024, as in PostgreSQL. */
export function parseBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(text.trim())
  if (!match) throw new Error(`'${text}' is not a size (use a number with a unit: 512kB, 10MB, 2GB)`)
  return Math.round(Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]!)
}

/** Bytes for people: `12.3 MB`. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  let n = Math.abs(bytes)
  for (const unit of ['B', 'kB', 'MB', 'GB']) {
    if (n < 1024) return `${sign}${unit === 'B' ? n : n.toFixed(1)} ${unit}`
    n /= 1024
  }
  return `${sign}${n.toFixed(1)} TB`
}

/** Durations for people: `850ms`, `12.4s`, `3m 05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** A size option: a number of bytes or a string with a unit. */
export const sizeSchema = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  try {
    return parseBytes(value)
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message })
    return z.NEVER
  }
})

/** A duration option: milliseconds, or a string with a unit (`1s`, `30m`). */
export const durationSchema = z.union([z.number().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value
  try {
    return parseDuration(value, 'duration')
  } catch {
    ctx.addIssue({ code: 'custom', message: `'${value}' is not a duration (use a number with a unit: 500ms, 10s, 30m, 2h)` })
    return z.NEVER
  }
})
