import os from 'node:os'
import type { RunReport } from '../runner/report.ts'
import type { Session } from '../session.ts'
import { createNotifier } from './notifier.ts'

/**
 * `dbops run` notifies like the watcher: failure (and success when asked) to every
 * webhook, waiting a bounded time for delivery before the process exits. A one-shot run
 * keeps no history, so it cannot tell a recovery from a success; the watcher can.
 * Dry runs notify nobody.
 */
export async function notifyAfterRun(
  session: Session,
  report: RunReport,
  options: { retryDelaysMs?: number[] } = {},
): Promise<void> {
  if (report.dryRun || session.config.notify.length === 0) return
  const notifier = createNotifier({
    targets: session.config.notify,
    logger: session.logger,
    retryDelaysMs: options.retryDelaysMs,
  })
  const failed =
    report.steps.find((s) => s.status === 'failed') ??
    report.steps.find((s) => s.status === 'aborted')
  notifier.runFinished(
    {
      pipelines: report.pipelines,
      status: report.status,
      runId: report.runId,
      startedAt: report.startedAt,
      endedAt: new Date().toISOString(),
      durationMs: report.durationMs,
      host: os.hostname(),
      pid: process.pid,
      tags: report.tags,
      ...(failed?.error ? { error: `${failed.id}: ${failed.error.message}` } : {}),
      steps: report.steps.map((s) => ({
        id: s.id,
        status: s.status,
        durationMs: s.durationMs,
        ...(s.error ? { error: s.error.message } : {}),
      })),
    },
    undefined,
  )
  await notifier.flush(15_000)
}
