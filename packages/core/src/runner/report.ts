import { DbopsError, messageOf } from '../errors.ts'

export type StepStatus = 'success' | 'failed' | 'skipped' | 'planned' | 'aborted' | 'not-run'

export interface StepReport {
  id: string
  /** Pipelines this step ran inside, outermost first. */
  path: string[]
  title: string
  status: StepStatus
  durationMs: number
  summary?: string
  /** Lines of a `--dry-run` plan. */
  plan?: string[]
  result?: unknown
  error?: { code: string; message: string; hint?: string }
}

export interface RunReport {
  runId: string
  pipelines: string[]
  dryRun: boolean
  tags: string[]
  status: 'success' | 'failed' | 'aborted'
  startedAt: string
  durationMs: number
  steps: StepReport[]
}

export function errorReport(error: unknown): NonNullable<StepReport['error']> {
  if (error instanceof DbopsError)
    return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) }
  const code = (error as { code?: unknown })?.code
  return { code: typeof code === 'string' ? code : 'TASK_FAILED', message: messageOf(error) }
}
