import { DbopsError, isAbortError } from '../errors.ts'
import { formatDuration } from '../format.ts'
import { errorReport, type StepReport } from './report.ts'

/** The reason `--timeout` aborts with: still an AbortError for code that checks, and it knows its value. */
export function timeoutReason(timeoutMs: number): Error {
  return Object.assign(new Error(`the run reached its --timeout of ${formatDuration(timeoutMs)}`), {
    name: 'AbortError',
    code: 'TIMEOUT',
    timeoutMs,
  })
}

/**
 * What an aborted step reports. Tasks rarely throw the signal's reason: fetch, streams,
 * timers and child processes throw their own "The operation was aborted". The step
 * reports why the run was aborted — the timeout with its value, the signal, the watcher
 * stopping — and that it was this step that was stopped.
 */
export function abortedStepError(
  reason: unknown,
  thrown: unknown,
  step: string,
  elapsedMs: number,
): NonNullable<StepReport['error']> {
  const code = (reason as { code?: unknown } | null)?.code
  // What the task itself said while stopping (a destination that would not let go, say)
  // is the part the user acts on: keep it after the reason.
  const said = thrown instanceof DbopsError && !isAbortError(thrown) ? `; ${thrown.message}` : ''
  const stopped = `${step} was stopped after ${formatDuration(elapsedMs)}${said}`
  if (code === 'TIMEOUT') {
    const limit = (reason as { timeoutMs?: unknown }).timeoutMs
    const hint =
      said && thrown instanceof DbopsError && thrown.hint
        ? thrown.hint
        : 'Give the run a longer --timeout if this step needs it, or find out why it took so long.'
    return {
      code: 'TIMEOUT',
      message: `the run reached its --timeout${typeof limit === 'number' ? ` of ${formatDuration(limit)}` : ''}: ${stopped}`,
      hint,
    }
  }
  if (code === 'INTERRUPTED')
    return {
      code: 'INTERRUPTED',
      message: `${(reason as Error).message}: ${stopped}`,
      ...(said && thrown instanceof DbopsError && thrown.hint ? { hint: thrown.hint } : {}),
    }
  if (reason instanceof DbopsError) return errorReport(reason)
  return errorReport(thrown)
}

/** A plugin command stopped by `--timeout` fails (exit 1) with a sentence; other errors pass through. */
export function abortedCommandError(
  signal: AbortSignal,
  thrown: unknown,
  command: string,
): unknown {
  const reason = signal.reason as { code?: unknown; timeoutMs?: unknown } | undefined
  if (!signal.aborted || reason?.code !== 'TIMEOUT') return thrown
  const limit =
    typeof reason.timeoutMs === 'number' ? ` of ${formatDuration(reason.timeoutMs)}` : ''
  return new DbopsError('TIMEOUT', `${command} reached its --timeout${limit} and was stopped`, {
    hint: 'Give it a longer --timeout, or find out why it took so long.',
    cause: thrown,
  })
}
