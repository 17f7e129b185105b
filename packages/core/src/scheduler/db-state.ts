import { sleep } from '../db/lock.ts'
import type { WatchEvents } from './watch-events.ts'

const WRITE_RETRY_MS = [500, 1000, 2000, 5000, 10_000, 20_000, 30_000]

/**
 * Whether the watcher reaches its database: `db:changed` on each transition (the log says
 * `db.down` and `db.up` once, not at every failure; the metric follows every change).
 */
export class DbState {
  up: boolean | undefined
  private readonly events: WatchEvents
  private readonly describe: () => string

  constructor(events: WatchEvents, describe: () => string) {
    this.events = events
    this.describe = describe
  }

  /** Records the outcome of a database call: `error` undefined means it worked. */
  record(error?: unknown): void {
    const up = error === undefined
    if (this.up === up) return
    const was = this.up
    this.up = up
    void this.events.emit('db:changed', { up, was, error, database: this.describe() })
  }

  /** A write that must land (the end of a run): retried with backoff for about a minute. */
  async retry(what: string, fn: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await fn()
        return this.record()
      } catch (error) {
        this.record(error)
        const wait = WRITE_RETRY_MS[attempt]
        if (wait === undefined) {
          await this.events.emit('db:write-failed', { what, error })
          return
        }
        await sleep(wait)
      }
    }
  }
}
