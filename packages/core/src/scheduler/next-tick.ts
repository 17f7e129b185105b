import { CronExpressionParser } from 'cron-parser'

/**
 * Tick arithmetic on top of cron-parser. Time zones (and so DST) are cron-parser's: a
 * local time that does not exist on a spring-forward day fires once, at the first instant
 * after it; a local time that occurs twice on a fall-back day fires once.
 */

/** The first tick strictly after `after`. */
export function nextTick(cron: string, timezone: string | undefined, after: Date): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: after }).next().toDate()
}

/** The latest tick at or before `at`. */
export function latestTick(cron: string, timezone: string | undefined, at: Date): Date {
  return CronExpressionParser.parse(cron, { tz: timezone, currentDate: new Date(at.getTime() + 1) })
    .prev()
    .toDate()
}

/**
 * What a schedule should do when the watcher wakes at `now` with `due` as its pending
 * tick: nothing yet (woke early), or fire the latest tick that is due — ticks passed over
 * while the process slept or the clock jumped are coalesced into one; `missed` counts them.
 */
export function dueTick(
  cron: string,
  timezone: string | undefined,
  due: Date,
  now: Date,
): { fire: Date; missed: number; next: Date } | undefined {
  if (now.getTime() < due.getTime()) return undefined
  const fire = latestTick(cron, timezone, now)
  let missed = 0
  if (fire.getTime() !== due.getTime()) {
    // Count what was passed over, bounded: a per-second schedule after a long suspend.
    const it = CronExpressionParser.parse(cron, { tz: timezone, currentDate: due, endDate: fire })
    while (missed < 10_000 && it.hasNext() && it.next().getTime() < fire.getTime()) missed++
    missed++ // `due` itself
  }
  return { fire, missed, next: nextTick(cron, timezone, now) }
}
