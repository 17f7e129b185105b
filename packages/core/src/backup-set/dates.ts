/**
 * How far ahead of this machine's clock a manifest's date may be: clocks of the machines
 * that write backups drift a little, but a set from later than this is not believable.
 */
export const FUTURE_TOLERANCE_MS = 5 * 60_000

/**
 * Why a manifest date cannot be trusted, or undefined when it can: it must be an ISO 8601
 * date-time (what dbops writes) and not more than a few minutes in the future. A set with
 * such a date would sort as the newest and decide what retention keeps.
 */
export function dateProblem(value: string, now: Date): string | undefined {
  const at = isoTime(value)
  if (at === undefined) return `${JSON.stringify(value.slice(0, 40))} is not an ISO 8601 date-time`
  if (at - now.getTime() > FUTURE_TOLERANCE_MS)
    return `${value} is in the future (this machine's clock says ${now.toISOString()})`
  return undefined
}

/** Milliseconds since the epoch of an ISO 8601 date-time with a zone, else undefined. */
export function isoTime(value: string): number | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value))
    return undefined
  const at = Date.parse(value)
  return Number.isNaN(at) ? undefined : at
}
