import { sleep } from '../db/lock.ts'
import { ensureSchema, type LostRun, markLost, pruneHistory } from './claim.ts'
import type { DbState } from './db-state.ts'
import type { LoadedConfig } from './loaded-config.ts'
import type { WatchEvents } from './watch-events.ts'

const CONNECT_BACKOFF_MS = [1000, 2000, 4000, 8000, 15_000, 30_000]
const PRUNE_EVERY_MS = 3_600_000
// Lost runs of other schedules are also found at each of their ticks; this sweep only makes
// their alert timely for schedules that tick rarely.
const SWEEP_EVERY_MS = 300_000

/**
 * The watcher's database chores outside ticks: the schema and a first look for lost runs at
 * start (retried with backoff while the database is down), then a periodic sweep for lost
 * runs and, hourly, pruning the history.
 */
export class Housekeeping {
  private timer: NodeJS.Timeout | undefined
  private lastPrune = Date.now()
  private readonly options: {
    events: WatchEvents
    db: DbState
    historyDays: number
    leaseMs: number
    stopSignal: AbortSignal
    current(): LoadedConfig
    reportLost(lost: LostRun[], loaded: LoadedConfig): void
  }

  constructor(options: Housekeeping['options']) {
    this.options = options
  }

  /** Creates the schema, reports lost runs and prunes the history; retries until it worked or the watcher stops. */
  async connect(): Promise<void> {
    const { db, stopSignal } = this.options
    for (let attempt = 0; !stopSignal.aborted; attempt++) {
      const loaded = this.options.current()
      try {
        await ensureSchema(loaded.schedulerDb)
        this.options.reportLost(await markLost(loaded.schedulerDb), loaded)
        await pruneHistory(loaded.schedulerDb, this.options.historyDays)
        db.record()
        return
      } catch (error) {
        db.record(error)
        const wait = CONNECT_BACKOFF_MS[Math.min(attempt, CONNECT_BACKOFF_MS.length - 1)]!
        await this.options.events.emit('db:retry', { attempt: attempt + 1, retryInMs: wait, error })
        await sleep(wait, stopSignal).catch(() => {})
      }
    }
  }

  /** From now on, sweeps every few minutes (at least once per lease), as `track`ed work. */
  startSweeping(track: (work: Promise<void>) => void): void {
    if (this.options.stopSignal.aborted) return
    const every = Math.max(this.options.leaseMs, SWEEP_EVERY_MS)
    this.timer = setInterval(() => track(this.sweep()), every)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async sweep(): Promise<void> {
    const loaded = this.options.current()
    try {
      this.options.reportLost(await markLost(loaded.schedulerDb), loaded)
      if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
        this.lastPrune = Date.now()
        await pruneHistory(loaded.schedulerDb, this.options.historyDays)
      }
      this.options.db.record()
    } catch (error) {
      this.options.db.record(error)
    }
  }
}
