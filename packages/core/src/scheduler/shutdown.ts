import { DbopsError } from '../errors.ts'
import type { RunLifecycle } from './run-lifecycle.ts'
import type { WatchEvents } from './watch-events.ts'

const STUCK_AFTER_MS = 30_000

/**
 * SIGTERM/SIGINT: start no more runs, give running ones the shutdown timeout, then abort
 * them through their signal; a second signal aborts at once. The watcher then closes what it
 * holds and `done` resolves with exit code 0.
 */
export class Shutdown {
  private readonly parts: {
    /** The watcher's stop: aborted here, read by everything that must not start any more. */
    controller: AbortController
    events: WatchEvents
    runs: RunLifecycle
    timeoutMs: number
    /** Resolves once the watcher's ticks and runs in flight settled. */
    settled(): Promise<void>
    /** Stops the timers, so nothing new is started. */
    halt(): void
    /** Closes what is left: notifications in flight, the metrics server, the config's pools. */
    close(): Promise<void>
  }
  private finished: (code: number) => void = () => {}
  /** Resolves with the exit code once the watcher stopped. */
  readonly done = new Promise<number>((resolve) => {
    this.finished = resolve
  })

  constructor(parts: Shutdown['parts']) {
    this.parts = parts
  }

  request(signal: string): void {
    const { controller, events, runs } = this.parts
    if (controller.signal.aborted) {
      if (!runs.aborted) {
        void events.emit('watch:force-stop', { signal })
        runs.abortAll(`the watcher got ${signal} twice and stopped at once`)
      }
      return
    }
    controller.abort(
      new DbopsError('WATCH_STOPPED', `the watcher stopped (${signal}) before the run started`),
    )
    this.parts.halt()
    void this.stop(signal)
  }

  private async stop(signal: string): Promise<void> {
    const { events, runs, timeoutMs, settled } = this.parts
    await events.emit('watch:stopping', { signal, running: runs.running(), timeoutMs })
    if (!(await within(settled(), timeoutMs)))
      runs.abortAll(
        `aborted: the watcher was stopped (${signal}) and the run did not finish within the shutdown timeout (${timeoutMs / 1000}s)`,
      )
    if (!(await within(settled(), STUCK_AFTER_MS))) await events.emit('watch:stuck', {})
    runs.stopLeases()
    await this.parts.close()
    await events.emit('watch:stopped', {})
    this.finished(0)
  }
}

/** Whether `work` settled within `ms`. */
function within(work: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    work.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
