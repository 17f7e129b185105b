import type { HealthReport } from './types.ts'

/** One line: the worst status, what is not OK by name, the counts. */
export function summarizeReport(report: HealthReport): string {
  const names = (status: string) =>
    report.checks.filter((r) => r.status === status).map((r) => r.check)
  const parts = (['critical', 'warning', 'unknown'] as const)
    .filter((s) => report.counts[s] > 0)
    .map((s) => `${report.counts[s]} ${s} (${names(s).join(', ')})`)
  return `${report.status.toUpperCase()}: ${[...parts, `${report.counts.ok} ok`].join(', ')}${report.counts.skipped ? `, ${report.counts.skipped} skipped` : ''} in ${(report.durationMs / 1000).toFixed(2)} s`
}

/** Whether a status fails the run under `failOn`. */
export function fails(
  status: HealthReport['status'],
  failOn: 'critical' | 'warning' | 'never',
): boolean {
  if (failOn === 'never') return false
  if (failOn === 'critical') return status === 'critical'
  return status !== 'ok'
}
