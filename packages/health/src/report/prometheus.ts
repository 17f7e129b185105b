import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { DbopsError } from 'dbops/plugin'
import type { HealthReport } from '../types.ts'

const STATUS_VALUE = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')
}

function sample(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/**
 * Prometheus text exposition: one series per check (status, value, thresholds, findings,
 * duration) plus run-level gauges. Low cardinality by design: no per-object series.
 * Skipped checks are left out.
 */
export function renderPrometheus(report: HealthReport): string {
  const base = `database="${escapeLabel(report.database)}"`
  const checks = report.checks.filter((r) => r.status !== 'skipped')
  const lines: string[] = []
  const family = (name: string, help: string, rows: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`)
    for (const [labels, value] of rows) lines.push(`${name}{${labels}} ${sample(value)}`)
  }
  const per = (r: (typeof checks)[number]) => `${base},check="${escapeLabel(r.check)}"`
  family(
    'dbops_health_check_status',
    'Status of a dbops health check: 0 ok, 1 warning, 2 critical, 3 unknown.',
    checks.map((r) => [per(r), STATUS_VALUE[r.status as keyof typeof STATUS_VALUE]]),
  )
  family(
    'dbops_health_check_value',
    'Value measured by the check, in its base unit (seconds, bytes, percent, count).',
    checks.filter((r) => r.value !== null).map((r) => [`${per(r)},unit="${r.unit}"`, r.value!]),
  )
  family(
    'dbops_health_check_warning_threshold',
    'Warning threshold of the check, in its base unit.',
    checks.filter((r) => r.thresholds.warning !== null).map((r) => [per(r), r.thresholds.warning!]),
  )
  family(
    'dbops_health_check_critical_threshold',
    'Critical threshold of the check, in its base unit.',
    checks
      .filter((r) => r.thresholds.critical !== null)
      .map((r) => [per(r), r.thresholds.critical!]),
  )
  family(
    'dbops_health_check_findings',
    'Number of objects the check reports (sessions, indexes, sequences...).',
    checks.map((r) => [per(r), r.total]),
  )
  family(
    'dbops_health_check_duration_seconds',
    'Time the check took.',
    checks.map((r) => [per(r), r.durationMs / 1000]),
  )
  family(
    'dbops_health_status',
    'Worst status of the run: 0 ok, 1 warning, 2 critical, 3 unknown.',
    [[base, STATUS_VALUE[report.status]]],
  )
  family('dbops_health_up', '1 when the database answered the connection check.', [
    [base, report.checks.find((r) => r.check === 'connection')?.status === 'critical' ? 0 : 1],
  ])
  family('dbops_health_last_run_timestamp_seconds', 'When the run started (Unix time).', [
    [base, Date.parse(report.startedAt) / 1000],
  ])
  family('dbops_health_run_duration_seconds', 'Time the whole run took.', [
    [base, report.durationMs / 1000],
  ])
  return `${lines.join('\n')}\n`
}

/**
 * Writes the textfile-collector file atomically: a temp file in the same directory, then
 * rename, so node_exporter never reads half a file. The directory is created if missing.
 */
export async function writeTextfile(file: string, content: string): Promise<void> {
  const temp = `${file}.${process.pid}.tmp`
  try {
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(temp, content, { mode: 0o644 })
    await rename(temp, file)
  } catch (error) {
    await rm(temp, { force: true }).catch(() => {})
    throw new DbopsError(
      'HEALTH_TEXTFILE',
      `cannot write the Prometheus textfile ${file}: ${(error as Error).message}`,
      {
        hint: 'Check that the directory is writable (node_exporter --collector.textfile.directory).',
      },
    )
  }
}
