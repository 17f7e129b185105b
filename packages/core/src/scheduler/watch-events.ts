import type { Delivery, Notifier } from '../notify/notifier.ts'
import type { RunSummary } from '../notify/payload.ts'
import type { RunReport } from '../runner/report.ts'
import type { ActiveRun, LostRun } from './claim.ts'
import type { PlannedSchedule, ScheduleChanges } from './tick-planner.ts'
import { TypedEmitter } from './typed-emitter.ts'

/** What every event of one run says. */
interface RunFacts {
  schedule: string
  tick: Date
  runId: string
  pipelines: string[]
}

/** Where a run's alerts go: the notifier of the config it runs under, the schedule's ping URL. */
interface RunAlerts {
  notifier: Notifier
  ping: string | undefined
}

/** How a tick ended for this watcher; `outcome` is also the metric's label. */
export type TickOutcome = { schedule: string; tick: Date } & (
  | { outcome: 'ran'; runId: string }
  | { outcome: 'queued'; runId: string; behind: ActiveRun }
  | { outcome: 'claimed-elsewhere' }
  | { outcome: 'skipped-overlap'; behind: ActiveRun; overlap: string }
  | { outcome: 'missed'; error: unknown }
)

/**
 * Everything the watcher reports, by name. The watcher's parts emit these; its log,
 * metrics, webhooks and pings subscribe (see subscribers/). A new subscriber is one more
 * `events.on(...)`, not an edit of the watcher.
 */
export interface WatchEventMap {
  'watch:started': {
    watcher: string
    database: string
    metricsPort: number | undefined
    schedules: readonly PlannedSchedule[]
  }
  'watch:stopping': { signal: string; running: { schedule: string }[]; timeoutMs: number }
  /** A second stop signal: running runs are aborted at once. */
  'watch:force-stop': { signal: string }
  'watch:abort': { runIds: string[]; message: string }
  /** Runs that did not stop within 30 s of being aborted. */
  'watch:stuck': Record<string, never>
  'watch:stopped': Record<string, never>
  'watch:internal-error': { error: unknown }

  'config:reload': Record<string, never>
  'config:reload-failed': { error: unknown }
  'config:reloaded': ScheduleChanges & {
    schedules: readonly PlannedSchedule[]
    /** Runs of the previous config that go on. */
    inFlight: number
  }

  /** The database became reachable (`was` false or, at the first call, undefined) or not. */
  'db:changed': { up: boolean; was: boolean | undefined; error: unknown; database: string }
  /** Setting up the schema failed; the next attempt is in `retryInMs`. */
  'db:retry': { attempt: number; retryInMs: number; error: unknown }
  /** A write that had to land (the end of a run) did not, after its retries. */
  'db:write-failed': { what: string; error: unknown }

  /** A schedule's tick is due; the schedule now waits for `schedule.next`. */
  'tick:due': { schedule: PlannedSchedule; fire: Date; missed: number }
  'tick:catch-up': { schedule: string; tick: Date; lastClaimed: Date }
  'tick:outcome': TickOutcome

  /** A queued run's turn came: the schedule's previous run ended. */
  'run:dequeued': RunFacts
  'run:started': RunFacts & RunAlerts
  'run:finished': RunFacts &
    RunAlerts & {
      report: RunReport
      error: string | undefined
      /** False when it was aborted before it started (queued, in its jitter). */
      started: boolean
      summary: RunSummary
      /** The schedule's run before this one ended as (fetched once, on first call). */
      previousStatus(): Promise<string | undefined>
    }
  /** A run of a watcher that stopped renewing its lease; this watcher marked it lost. */
  'run:lost': RunAlerts & { run: LostRun }

  'notify:delivery': Delivery
}

export type WatchEvents = TypedEmitter<WatchEventMap>

/** The watcher's events; a listener's error is reported as `watch:internal-error`. */
export function createWatchEvents(): WatchEvents {
  const events: WatchEvents = new TypedEmitter<WatchEventMap>((error, event) => {
    if (event !== 'watch:internal-error') void events.emit('watch:internal-error', { error })
  })
  return events
}
