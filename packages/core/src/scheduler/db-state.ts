import { sleep } from '../db/lock.ts'
import { messageOf } from '../errors.ts'
import type { Logger } from '../logger.ts'

/** Whether the watcher reaches its database: logs the transitions once (`db.down`, `db.up`), not every failure. */
export class DbState {
  up: boolean | undefined
  private listeners: ((up: boolean) => void)[] = []
  private readonly log: Logger
  private readonly describe: () => string

  constructor(log: Logger, describe: () => string) {
    this.log = log
    this.describe = describe
  }

  onChange(listener: (up: boolean) => void): void {
    this.listeners.push(listener)
  }

  /** Records the outcome of a database call: `error` undefined means it worked. */
  record(error?: unknown): void {
    const up = error === undefined
    if (this.up === up) return
    const was = this.up
    this.up = up
    this.listeners.forEach((l) => l(up))
    if (!up)
      this.log.error(
        `the database is unreachable: ${messageOf(error)}; ticks will be retried until each schedule's next one`,
        { event: 'db.down', error: messageOf(error) },
      )
    else if (was === false)
      this.log.info(`the database is reachable again (${this.describe()})`, { event: 'db.up' })
  }

  /** A write that must land (the end of a run): retried with backoff for about a minute. */
  async retry(what: string, fn: () => Promise<void>): Promise<void> {
    const waits = [500, 1000, 2000, 5000, 10_000, 20_000, 30_000]
    for (let attempt = 0; ; attempt++) {
      try {
        await fn()
        return this.record()
      } catch (error) {
        this.record(error)
        const wait = waits[attempt]
        if (wait === undefined) {
          this.log.error(
            `could not ${what} in the database: ${messageOf(error)}; other watchers will mark it lost when its lease expires`,
            { event: 'db.write-failed', error: messageOf(error) },
          )
          return
        }
        await sleep(wait)
      }
    }
  }
}
