import type { ScheduleConfig } from '../config/schema.ts'
import { dueTick, latestTick, nextTick } from './next-tick.ts'

/** Where the planner reads the time: the wall clock, or a test's fake one. */
export interface Clock {
  now(): number
}

const systemClock: Clock = { now: () => Date.now() }

/** A schedule and the tick it waits for. */
export interface PlannedSchedule {
  readonly name: string
  readonly config: ScheduleConfig
  next: Date
}

/** A tick to claim now; `missed` counts the ticks passed over to reach it (0 when on time). */
export interface DueTick {
  schedule: PlannedSchedule
  fire: Date
  missed: number
}

export interface ScheduleChanges {
  added: string[]
  removed: string[]
  changed: string[]
}

const MAX_SLEEP_MS = 60_000 // re-read the clock at least this often: it may have jumped
const OVERDUE_MS = 60_000

/**
 * The watcher's tick arithmetic, without timers or I/O: which tick each schedule waits for,
 * how long to sleep, what is due on waking, what to catch up at start, how long a claim may
 * be retried and a run's jitter. The time comes from a Clock, so tests drive it by hand.
 */
export class TickPlanner {
  private schedules = new Map<string, PlannedSchedule>()
  private readonly clock: Clock
  /** When the watcher last woke up (for /healthz). */
  lastWake: Date

  constructor(clock: Clock = systemClock) {
    this.clock = clock
    this.lastWake = new Date(clock.now())
  }

  get size(): number {
    return this.schedules.size
  }

  all(): PlannedSchedule[] {
    return [...this.schedules.values()]
  }

  get(name: string): PlannedSchedule | undefined {
    return this.schedules.get(name)
  }

  /**
   * Plans a config's schedules and says what changed. A schedule whose cron and time zone
   * stayed keeps the tick it waits for (a reload between two ticks must not skip one).
   */
  replace(configs: Record<string, ScheduleConfig>): ScheduleChanges {
    const now = new Date(this.clock.now())
    const before = this.schedules
    this.schedules = new Map(
      Object.entries(configs).map(([name, config]) => {
        const old = before.get(name)
        const same =
          old && old.config.cron === config.cron && old.config.timezone === config.timezone
        const next = same ? old.next : nextTick(config.cron, config.timezone, now)
        return [name, { name, config, next }]
      }),
    )
    const names = [...this.schedules.keys()]
    return {
      added: names.filter((n) => !before.has(n)),
      removed: [...before.keys()].filter((n) => !this.schedules.has(n)),
      changed: names.filter(
        (n) =>
          before.has(n) &&
          JSON.stringify(before.get(n)!.config) !== JSON.stringify(this.schedules.get(n)!.config),
      ),
    }
  }

  /** How long to sleep: until the earliest tick, at most a minute; a minute with no schedules. */
  sleepMs(): number {
    const now = this.clock.now()
    const earliest = this.schedules.size
      ? Math.min(...this.all().map((s) => s.next.getTime()))
      : now + MAX_SLEEP_MS
    return Math.max(0, Math.min(earliest - now, MAX_SLEEP_MS))
  }

  /**
   * On waking: the tick each schedule should claim now, if any (woke early, or it was another
   * schedule's tick). Ticks passed over while the process slept or the clock jumped are
   * coalesced into the latest one. Each due schedule moves on to its following tick.
   */
  wake(): DueTick[] {
    const now = new Date(this.clock.now())
    this.lastWake = now
    const due: DueTick[] = []
    for (const schedule of this.schedules.values()) {
      const { cron, timezone } = schedule.config
      const tick = dueTick(cron, timezone, schedule.next, now)
      if (!tick) continue
      schedule.next = tick.next
      due.push({ schedule, fire: tick.fire, missed: tick.missed })
    }
    return due
  }

  /**
   * catchUp 'latest': each such schedule with its latest tick at or before now. The watcher
   * runs that tick at start if it is later than the schedule's last claimed one (see
   * `missedWhileAway`).
   */
  catchUpCandidates(): { schedule: PlannedSchedule; latest: Date }[] {
    const now = new Date(this.clock.now())
    return this.all()
      .filter((s) => s.config.catchUp === 'latest')
      .map((s) => ({ schedule: s, latest: latestTick(s.config.cron, s.config.timezone, now) }))
  }

  /** Schedules whose tick is more than a minute overdue: /healthz calls the watcher behind. */
  overdue(): string[] {
    const now = this.clock.now()
    return this.all()
      .filter((s) => now - s.next.getTime() > OVERDUE_MS)
      .map((s) => s.name)
  }
}

/** A tick was missed while no watcher ran only if the schedule ran before (a new one has no past to catch up). */
export function missedWhileAway(latest: Date, lastClaimed: Date | undefined): lastClaimed is Date {
  return lastClaimed !== undefined && lastClaimed.getTime() < latest.getTime()
}

/**
 * How long a tick's claim may be retried while the database is unreachable: until the
 * schedule's following tick (later it would run beside its successor), at least a second.
 */
export function claimDeadline(schedule: PlannedSchedule, tick: Date): number {
  return Math.max(schedule.next.getTime(), tick.getTime() + 1000)
}

/** A run's random delay before it starts, below the schedule's jitterMs, to spread load. */
export function jitterDelayMs(jitterMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * jitterMs)
}
