import type { WatchEvents } from './watch-events.ts'

/**
 * The watcher's background work: ticks (claim and run), sweeps, the first connect. A
 * shutdown waits for it to settle; an error that escapes it is reported as
 * `watch:internal-error`, never thrown into the event loop.
 */
export class InFlight {
  private readonly work = new Set<Promise<void>>()
  private readonly events: WatchEvents

  constructor(events: WatchEvents) {
    this.events = events
  }

  track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) =>
      this.events.emit('watch:internal-error', { error }),
    )
    this.work.add(tracked)
    void tracked.finally(() => this.work.delete(tracked))
  }

  /** Resolves once everything tracked by now has settled. */
  settled(): Promise<void> {
    return Promise.allSettled([...this.work]).then(() => undefined)
  }
}
