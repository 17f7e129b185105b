import type { RunReport } from '../runner/report.ts'
import { scrub } from '../secrets.ts'

/** What `dbops.runs.steps` keeps of each step: enough for a run's page, never the whole result. */
export interface RecordedStep {
  id: string
  title: string
  status: string
  durationMs: number
  summary?: string
  error?: string
  /** The result's top-level numbers (`bytes`, `reclaimedBytes`, `rebuilt`, ...), for charts over time. */
  figures?: Record<string, number>
}

const TEXT_MAX = 2000

/** The steps of a run as recorded in the history: scrubbed of the config's secrets, results cut to their numbers. */
export function recordedSteps(
  report: RunReport,
  secrets: Iterable<string | undefined>,
): RecordedStep[] {
  const clean = (text: string) => scrub(text, secrets).slice(0, TEXT_MAX)
  return report.steps.map((step) => {
    const figures = numbersOf(step.result)
    return {
      id: step.id,
      title: clean(step.title),
      status: step.status,
      durationMs: Math.round(step.durationMs),
      ...(step.summary ? { summary: clean(step.summary) } : {}),
      ...(step.error ? { error: clean(step.error.message) } : {}),
      ...(figures ? { figures } : {}),
    }
  })
}

function numbersOf(result: unknown): Record<string, number> | undefined {
  if (!result || typeof result !== 'object' || Array.isArray(result)) return undefined
  const out: Record<string, number> = {}
  for (const [key, value] of Object.entries(result))
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value
  return Object.keys(out).length ? out : undefined
}
