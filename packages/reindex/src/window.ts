import { isTimeZone } from 'dbops/plugin'
import { z } from 'zod'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const
type Day = (typeof DAYS)[number]

const clock = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a time of day as HH:MM (24h), e.g. 01:30')

export const windowSchema = z
  .strictObject({
    /** Start of the window, HH:MM. */
    start: clock,
    /** End of the window, HH:MM; before `start` means the window crosses midnight. */
    end: clock,
    /** IANA time zone the times are in. */
    timezone: z.string().default('UTC'),
    /** Days the window opens on (the day it starts); all days when left out. */
    days: z.array(z.enum(DAYS)).min(1).optional(),
  })
  .refine((w) => w.start !== w.end, {
    message: 'start and end are the same time: the window would be empty',
  })
  .refine((w) => isTimeZone(w.timezone), {
    message: 'unknown time zone (use an IANA name such as UTC or Europe/Berlin)',
    path: ['timezone'],
  })

export type MaintenanceWindow = z.output<typeof windowSchema>

function localClock(now: Date, timezone: string): { minutes: number; day: Day; text: string } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timezone,
    hour12: false,
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
  }).formatToParts(now)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  const hour = Number(get('hour')) % 24
  const minute = Number(get('minute'))
  const day = get('weekday').slice(0, 3).toLowerCase() as Day
  return {
    minutes: hour * 60 + minute,
    day,
    text: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
  }
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))

/**
 * Whether `now` falls inside the window. A window that crosses midnight (22:00–03:00) counts
 * the early hours as part of the previous day's window, so `days` names the day it opens.
 * Returns null when inside, else the sentence saying why not.
 */
export function outsideWindow(window: MaintenanceWindow, now = new Date()): string | null {
  const { minutes, day, text } = localClock(now, window.timezone)
  const start = toMinutes(window.start)
  const end = toMinutes(window.end)
  let openedOn: Day | undefined
  if (start < end) openedOn = minutes >= start && minutes < end ? day : undefined
  else if (minutes >= start) openedOn = day
  else if (minutes < end) openedOn = DAYS[(DAYS.indexOf(day) + 6) % 7]
  const span = `${window.start}–${window.end} ${window.timezone}${window.days ? ` (${window.days.join(', ')})` : ''}`
  if (openedOn && (!window.days || window.days.includes(openedOn))) return null
  return `it is ${text} ${window.timezone} on ${day}, outside the maintenance window ${span}`
}
