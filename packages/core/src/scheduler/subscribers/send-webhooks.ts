import { lostSummary } from '../run-summary.ts'
import type { WatchEvents } from '../watch-events.ts'

/**
 * The config's webhooks: a finished run's event (failure, recovery or success) once the
 * schedule's previous outcome is known (a recovery is a success after a failure); a lost run
 * is a failure. The notifier sends in the background; the run's end waits only for the hand-over.
 */
export function sendWebhooks(events: WatchEvents): void {
  events.on('run:finished', async ({ notifier, summary, previousStatus }) =>
    notifier.runFinished(summary, await previousStatus()),
  )
  events.on('run:lost', ({ notifier, run }) => notifier.runFinished(lostSummary(run), undefined))
}
