// Numbers, durations and times as people read them.
import { now } from './data.js'

export function bytes(n) {
  if (n === null || n === undefined) return '-'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = n
  let i = 0
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024
    i++
  }
  return `${i === 0 ? value : value.toFixed(value >= 100 ? 0 : 1)} ${units[i]}`
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '-'
  const s = Math.abs(seconds)
  if (s === 0) return '0s'
  if (s < 1) return `${Math.round(s * 1000)} ms`
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`
  return `${Math.floor(s / 86400)}d ${Math.round((s % 86400) / 3600)}h`
}

/** `5m 2s ago`, or `in 3h 0m` for a time still ahead. */
export function ago(iso) {
  if (!iso) return '-'
  const s = (now() - Date.parse(iso)) / 1000
  return s < 0 ? `in ${duration(-s)}` : `${duration(s)} ago`
}

/** An ISO time without its T and milliseconds. */
export function when(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-'
}

/** A health check's value in its unit. */
export function value(v, unit) {
  if (v === null || v === undefined) return '-'
  if (unit === 'seconds') return duration(v)
  if (unit === 'ms') return v >= 10000 ? duration(v / 1000) : `${Math.round(v)} ms`
  if (unit === 'percent') return `${Math.round(v * 10) / 10}%`
  if (unit === 'bytes') return bytes(v)
  if (unit === 'rate') return `${Math.round(v * 10) / 10}/h`
  if (unit === 'version') return String(v)
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 10) / 10)
}
