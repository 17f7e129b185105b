/** Longest stretch of CPU-bound work (parsing, hashing, linting) between two turns of the event loop. */
const SLICE_MS = 25

let lastTurn = performance.now()

/**
 * Called often from long CPU-bound loops: every SLICE_MS it lets the event loop run, so a
 * SIGINT/SIGTERM handler (and timers such as --timeout) get their turn, then honours the
 * abort. Without it a 20 MB file is a minute of work that no signal can stop.
 */
export async function cooperate(signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted()
  if (performance.now() - lastTurn < SLICE_MS) return
  await new Promise<void>((resolve) => setImmediate(resolve))
  lastTurn = performance.now()
  signal?.throwIfAborted()
}
