import { NAGIOS_CODE } from '../status.ts'
import type { CheckResult, HealthReport } from '../types.ts'

const UOM: Record<CheckResult['unit'], string> = {
  seconds: 's',
  ms: 'ms',
  percent: '%',
  bytes: 'B',
  count: '',
  rate: '',
  version: '',
}

/** Perfdata label: quoted, no `'` or `=` inside (monitoring-plugins guidelines §2.6). */
function label(name: string): string {
  return `'${name.replace(/['=]/g, '_')}'`
}

function perfNumber(n: number | null): string {
  if (n === null) return ''
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/\.?0+$/, '')
}

/**
 * The one-line plugin output `DBOPS_HEALTH <STATE>: <summary> | <perfdata>` and its exit
 * code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, worst status wins (an UNKNOWN is never
 * hidden behind an OK).
 */
export function renderNagios(report: HealthReport): { line: string; exitCode: number } {
  const state = report.status.toUpperCase()
  const bad = report.checks.filter(
    (r) => r.status === 'critical' || r.status === 'warning' || r.status === 'unknown',
  )
  const order = { critical: 0, warning: 1, unknown: 2 } as Record<string, number>
  bad.sort((a, b) => order[a.status]! - order[b.status]!)
  const summary = bad.length
    ? bad.map((r) => `${r.status.toUpperCase()} ${r.check}: ${r.message}`).join('; ')
    : `${report.counts.ok} checks ok`
  const perf = report.checks
    .filter((r) => r.value !== null && r.unit !== 'version')
    .map((r) => {
      const lo = r.thresholds.direction === 'below'
      const range = (t: number | null) =>
        t === null ? '' : lo ? `${perfNumber(t)}:` : perfNumber(t)
      return `${label(r.check)}=${perfNumber(r.value)}${UOM[r.unit]};${range(r.thresholds.warning)};${range(r.thresholds.critical)}`
    })
  perf.push(`'time'=${(report.durationMs / 1000).toFixed(3)}s`)
  const text = summary.replace(/[|\n]/g, ' ')
  return {
    line: `DBOPS_HEALTH ${state}: ${text} | ${perf.join(' ')}`,
    exitCode: NAGIOS_CODE[report.status],
  }
}
