type Listener = (payload: never) => unknown

/**
 * A small typed event emitter, in the manner of graphile-worker's `events`: a part of the
 * program says what happened, and whoever cares subscribes. Two differences from Node's
 * EventEmitter, both because the listeners here are side effects of a run (its log line, its
 * webhook):
 * - `emit` resolves once every listener that returned a promise has settled, so the emitter
 *   can wait for them (a run is over only when its webhook has been handed over);
 * - a listener that throws or rejects goes to `onError`, never back to the emitter, so one
 *   subscriber's bug cannot stop a run or the other subscribers.
 */
export class TypedEmitter<Events extends object> {
  private readonly listeners = new Map<keyof Events, Listener[]>()
  private readonly onError: (error: unknown, event: keyof Events) => void

  constructor(onError: (error: unknown, event: keyof Events) => void) {
    this.onError = onError
  }

  /** Calls `listener` with every later `event`, in the order listeners subscribed; returns the unsubscriber. */
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => unknown): () => void {
    const list = this.listeners.get(event) ?? []
    list.push(listener)
    this.listeners.set(event, list)
    return () => {
      const at = list.indexOf(listener)
      if (at >= 0) list.splice(at, 1)
    }
  }

  /** Calls the listeners synchronously; resolves when the promises they returned settled. Never rejects. */
  emit<K extends keyof Events>(event: K, payload: Events[K]): Promise<void> {
    const waits: Promise<void>[] = []
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        const result = (listener as (payload: Events[K]) => unknown)(payload)
        if (result instanceof Promise)
          waits.push(result.then(noop, (error: unknown) => this.onError(error, event)))
      } catch (error) {
        this.onError(error, event)
      }
    }
    return waits.length > 0 ? Promise.all(waits).then(noop) : Promise.resolve()
  }
}

function noop(): void {}
