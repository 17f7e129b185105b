// Sizes and durations for people, one style across the CLI and every plugin. Sizes follow
// pg_size_pretty (powers of 1024, "kB", "MB"), so a figure reads the same as in psql.

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB']

/** `512 B`, `12.3 kB`, `1.5 GB`: powers of 1024, one decimal above bytes, a sign for deltas. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : ''
  let n = Math.abs(bytes)
  let i = 0
  while (n >= 1024 && i < BYTE_UNITS.length - 1) {
    n /= 1024
    i++
  }
  return `${sign}${i === 0 ? Math.round(n) : n.toFixed(1)} ${BYTE_UNITS[i]}`
}

const DURATION_UNITS: [number, string][] = [
  [86_400, 'd'],
  [3600, 'h'],
  [60, 'm'],
  [1, 's'],
]

/** `250ms`, `1.5s`, `1m 30s`, `2h`, `3d 4h`: at most two units, zero parts left out. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(1))}s`
  let rest = Math.round(ms / 1000)
  const parts: string[] = []
  for (const [size, unit] of DURATION_UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0 || parts.length) parts.push(`${n}${unit}`)
  }
  return parts
    .slice(0, 2)
    .filter((p) => !p.startsWith('0'))
    .join(' ')
}
