import { messageOf } from '../errors.ts'
import type { RunSummary } from '../notify/payload.ts'
import type { RunReport } from '../runner/report.ts'
import type { LostRun, WatcherIdentity } from './claim.ts'

/** The error of a run for history, logs and alerts: the first failed (else aborted) step. */
export function runError(report: RunReport): string | undefined {
  const step =
    report.steps.find((s) => s.status === 'failed') ??
    report.steps.find((s) => s.status === 'aborted')
  if (step?.error) return `${step.id}: ${step.error.message}`
  return report.status === 'success' ? undefined : (report as RunReport & { error?: string }).error
}

/** A report for a run that ended before or outside the runner (planning failed, aborted while queued). */
export function reportWithoutSteps(
  runId: string,
  pipelines: string[],
  tags: string[],
  started: Date,
  error: unknown,
  aborted: boolean,
): RunReport {
  return Object.assign(
    {
      runId,
      pipelines,
      dryRun: false,
      tags,
      status: aborted ? ('aborted' as const) : ('failed' as const),
      startedAt: started.toISOString(),
      durationMs: Date.now() - started.getTime(),
      steps: [],
    },
    { error: messageOf(error) },
  )
}

export function summaryOf(
  report: RunReport,
  run: { schedule: string; tick: Date; me: WatcherIdentity },
): RunSummary {
  const error = runError(report)
  return {
    schedule: run.schedule,
    pipelines: report.pipelines,
    status: report.status,
    runId: report.runId,
    tick: run.tick.toISOString(),
    startedAt: report.startedAt,
    endedAt: new Date().toISOString(),
    durationMs: report.durationMs,
    host: run.me.host,
    pid: run.me.pid,
    tags: report.tags,
    ...(error ? { error } : {}),
    steps: report.steps.map((step) => ({
      id: step.id,
      status: step.status,
      durationMs: step.durationMs,
      ...(step.error ? { error: step.error.message } : {}),
    })),
  }
}

/** A run another watcher left behind, as the alert about it. */
export function lostSummary(run: LostRun): RunSummary {
  const ended = run.ended_at ?? new Date()
  const started = run.started_at ?? ended
  return {
    schedule: run.schedule,
    pipelines: run.pipelines,
    status: 'lost',
    runId: run.id,
    tick: run.tick.toISOString(),
    startedAt: started.toISOString(),
    endedAt: ended.toISOString(),
    durationMs: ended.getTime() - started.getTime(),
    host: run.host,
    pid: run.pid,
    tags: [],
    error: run.error,
    steps: [],
  }
}
