import { CronExpressionParser } from 'cron-parser'
import type { ScheduleConfig } from 'dbops/plugin'

export interface ScheduleRow {
  name: string
  cron: string
  timezone: string | null
  run: string[]
  tags: string[]
  next: string | null
}

/** The config's schedules with the next tick of each, as `dbops list` computes it. */
export function scheduleRows(
  schedules: Record<string, ScheduleConfig>,
  now = new Date(),
): ScheduleRow[] {
  return Object.entries(schedules).map(([name, s]) => {
    let next: string | null = null
    try {
      next = CronExpressionParser.parse(s.cron, { tz: s.timezone, currentDate: now })
        .next()
        .toDate()
        .toISOString()
    } catch {
      // validated with the config; a cron-parser quirk must not break the page
    }
    return {
      name,
      cron: s.cron,
      timezone: s.timezone ?? null,
      run: [s.run].flat(),
      tags: s.tags,
      next,
    }
  })
}
