import { formatValue } from '../thresholds.ts'
import type { CheckResult, HealthReport } from '../types.ts'

const LABEL: Record<CheckResult['status'], string> = {
  ok: 'OK',
  warning: 'WARN',
  critical: 'CRIT',
  unknown: 'UNKNOWN',
  skipped: 'SKIP',
}

function threshold(r: CheckResult): string {
  const { warning, critical, direction } = r.thresholds
  if (warning === null && critical === null) return '-'
  const op = direction === 'above' ? '>=' : '<='
  return [
    warning !== null ? `w${op}${formatValue(warning, r.unit)}` : '',
    critical !== null ? `c${op}${formatValue(critical, r.unit)}` : '',
  ]
    .filter(Boolean)
    .join(' ')
}

/**
 * A table a person reads at a glance: status, check, value, threshold, message; under each
 * non-OK check the objects concerned and a hint. `verbose` lists objects of OK checks too.
 */
export function renderText(report: HealthReport, options: { verbose?: boolean } = {}): string {
  const rows = report.checks.map((r) => [
    LABEL[r.status],
    r.check,
    r.display,
    threshold(r),
    r.message,
  ])
  const widths = [
    7,
    Math.max(5, ...rows.map((r) => r[1]!.length)),
    Math.max(5, ...rows.map((r) => r[2]!.length)),
    Math.max(9, ...rows.map((r) => r[3]!.length)),
  ]
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd()
  const out: string[] = []
  out.push(
    `dbops health ${report.target}${report.serverVersion ? ` (PostgreSQL ${report.serverVersion})` : ''}: ${report.status.toUpperCase()}`,
  )
  out.push('')
  out.push(line(['STATUS', 'CHECK', 'VALUE', 'THRESHOLD', 'DETAIL']))
  report.checks.forEach((r, i) => {
    out.push(line(rows[i]!))
    const showObjects =
      options.verbose || r.status === 'warning' || r.status === 'critical' || r.status === 'unknown'
    if (showObjects) {
      for (const f of r.findings.filter((f) => options.verbose || f.status !== 'ok')) {
        out.push(
          `         - ${f.object}${f.value !== null && r.unit !== 'count' ? ` ${formatValue(f.value, r.unit)}` : ''}${f.detail ? `: ${f.detail}` : ''}`,
        )
      }
      if (r.total > r.findings.length)
        out.push(`         … and ${r.total - r.findings.length} more`)
      if (r.hint && r.status !== 'unknown') out.push(`         hint: ${r.hint}`)
    }
  })
  const c = report.counts
  out.push('')
  out.push(
    `${c.ok} ok, ${c.warning} warning, ${c.critical} critical, ${c.unknown} unknown, ${c.skipped} skipped in ${(report.durationMs / 1000).toFixed(2)} s`,
  )
  return out.join('\n')
}
