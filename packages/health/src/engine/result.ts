import { checkOptions, type HealthOptions } from '../options.ts'
import { worstStatus } from '../status.ts'
import { compare, formatValue } from '../thresholds.ts'
import type { CheckDefinition, CheckOutcome, CheckResult, Finding, Status } from '../types.ts'

/** The worst measured value among the findings, in the check's direction; null when none has one. */
function worstValue(findings: Finding[], direction: 'above' | 'below'): number | null {
  let worst: number | null = null
  for (const f of findings) {
    if (f.value === null) continue
    if (worst === null) worst = f.value
    else worst = direction === 'above' ? Math.max(worst, f.value) : Math.min(worst, f.value)
  }
  return worst
}

/** Applies thresholds, fills defaults and cuts the listing: the outcome becomes a result. */
export function checkResult(
  check: CheckDefinition,
  options: HealthOptions,
  outcome: CheckOutcome,
  durationMs: number,
): CheckResult {
  const own = checkOptions(options, check.id)
  const direction = check.direction ?? 'above'
  const findings = (outcome.findings ?? []).map((f) => ({
    ...f,
    status: f.status ?? compare(f.value, own.warning, own.critical, direction),
  }))
  const value =
    outcome.value !== undefined
      ? outcome.value
      : (worstValue(findings, direction) ?? (findings.length ? null : 0))
  let status: Status =
    outcome.status ??
    worstStatus([
      compare(value, own.warning, own.critical, direction),
      ...findings.map((f) => f.status),
    ])
  let message =
    outcome.message ??
    (findings.length
      ? `${outcome.total ?? findings.length} found; worst ${formatValue(value, check.unit)}`
      : 'nothing to report')
  let reason: string | undefined
  if (outcome.unknownReason) {
    message += `; ${outcome.unknownReason}`
    if (status === 'ok') status = 'unknown'
    reason = outcome.unknownReason
  }
  if (status === 'unknown' || status === 'skipped') reason ??= message
  return {
    check: check.id,
    title: check.title,
    status,
    value: status === 'skipped' ? null : value,
    unit: check.unit,
    display:
      status === 'skipped' || (status === 'unknown' && !outcome.findings)
        ? '-'
        : formatValue(value, check.unit),
    thresholds: { warning: own.warning, critical: own.critical, direction },
    message,
    findings: findings.slice(0, options.limit),
    total: outcome.total ?? findings.length,
    durationMs,
    ...(status === 'warning' || status === 'critical' || status === 'unknown'
      ? { hint: check.hint }
      : {}),
    ...(reason ? { reason } : {}),
  }
}

/** A check that could not say anything: UNKNOWN, with why. */
export function unknownResult(
  check: CheckDefinition,
  options: HealthOptions,
  message: string,
  durationMs = 0,
): CheckResult {
  return checkResult(check, options, { status: 'unknown', message }, durationMs)
}
