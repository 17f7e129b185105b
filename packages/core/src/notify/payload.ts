/** What a notification says about one run: the same for webhooks, Slack and pings. */
export interface RunSummary {
  /** The schedule that started the run; absent for `dbops run`. */
  schedule?: string
  pipelines: string[]
  status: 'success' | 'failed' | 'aborted' | 'lost'
  runId: string
  /** The cron tick the run belongs to (ISO). */
  tick?: string
  startedAt: string
  endedAt: string
  durationMs: number
  host: string
  pid: number
  tags: string[]
  error?: string
  steps: { id: string; status: string; durationMs: number; error?: string }[]
}

export type NotifyEvent = 'failure' | 'recovery' | 'success'

/**
 * failure: the run failed (or its watcher died: lost). recovery: the first success after
 * a failure. success: every other success. An aborted run (the watcher was stopped) is
 * none of these.
 */
export function eventOf(
  status: RunSummary['status'],
  previous: string | undefined,
): NotifyEvent | undefined {
  if (status === 'failed' || status === 'lost') return 'failure'
  if (status !== 'success') return undefined
  return previous === 'failed' || previous === 'lost' ? 'recovery' : 'success'
}

export function headline(event: NotifyEvent, run: RunSummary): string {
  const what = run.schedule
    ? `schedule '${run.schedule}' (${run.pipelines.join(', ')})`
    : `run of ${run.pipelines.join(', ')}`
  const where = `${run.host}:${run.pid}`
  if (event === 'failure')
    return `dbops: ${what} ${run.status === 'lost' ? 'was LOST' : 'FAILED'} on ${where}${run.error ? `: ${run.error}` : ''}`
  if (event === 'recovery')
    return `dbops: ${what} recovered: succeeded in ${(run.durationMs / 1000).toFixed(1)}s on ${where}`
  return `dbops: ${what} succeeded in ${(run.durationMs / 1000).toFixed(1)}s on ${where}`
}

/** The generic webhook body: the event, a one-line text and the run summary. */
export function jsonPayload(event: NotifyEvent, run: RunSummary): Record<string, unknown> {
  return { source: 'dbops', event, text: headline(event, run), run }
}

/** A Slack-compatible incoming-webhook body (also accepted by Mattermost, Rocket.Chat, Discord's /slack). */
export function slackPayload(event: NotifyEvent, run: RunSummary): Record<string, unknown> {
  const icon =
    event === 'failure'
      ? ':rotating_light:'
      : event === 'recovery'
        ? ':white_check_mark:'
        : ':heavy_check_mark:'
  const failed = run.steps.filter((s) => s.status === 'failed' || s.status === 'aborted')
  const details = failed
    .map((s) => `• \`${s.id}\` ${s.status}${s.error ? `: ${s.error}` : ''}`)
    .join('\n')
  return { text: `${icon} ${headline(event, run)}${details ? `\n${details}` : ''}` }
}
