import type { Status } from './types.ts'

const SEVERITY: Record<Status, number> = { skipped: -1, ok: 0, unknown: 1, warning: 2, critical: 3 }

/** Worst wins: critical > warning > unknown > ok. Skipped checks never count. */
export function worstStatus(statuses: Iterable<Status>): Exclude<Status, 'skipped'> {
  let worst: Exclude<Status, 'skipped'> = 'ok'
  for (const s of statuses) if (s !== 'skipped' && SEVERITY[s] > SEVERITY[worst]) worst = s
  return worst
}

/** Nagios plugin exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
export const NAGIOS_CODE: Record<Exclude<Status, 'skipped'>, number> = {
  ok: 0,
  warning: 1,
  critical: 2,
  unknown: 3,
}
