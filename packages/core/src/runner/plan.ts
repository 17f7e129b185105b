import { closest } from '../config/closest.ts'
import type { ResolvedConfig } from '../config/resolve.ts'
import type { Step } from '../config/schema.ts'
import { UsageError } from '../errors.ts'

/** A pipeline expanded into the tree the runner executes. */
export type PlanNode =
  | { kind: 'task'; id: string; continueOnError: boolean }
  | { kind: 'sequence'; name: string; steps: PlanNode[]; continueOnError: boolean }
  | { kind: 'parallel'; steps: PlanNode[] }

/**
 * Expands `dbops run a b` into a tree: pipeline names become sequences, task ids leaves.
 * A name that is neither gets a "did you mean" and exit code 2. (Cycles were rejected
 * when the config was resolved.)
 */
export function planRun(config: ResolvedConfig, names: string[]): PlanNode[] {
  if (names.length === 0)
    throw new UsageError(
      'name a pipeline to run',
      `Pipelines in this config: ${Object.keys(config.pipelines).join(', ') || '(none)'}.`,
    )
  return names.map((name) => {
    if (!(name in config.pipelines) && !config.tasks.has(name)) {
      const near = closest(name, [...Object.keys(config.pipelines), ...config.tasks.keys()])
      throw new UsageError(
        `there is no pipeline or task named '${name}'${near ? `; did you mean '${near}'?` : ''}`,
        `Pipelines in this config: ${Object.keys(config.pipelines).join(', ') || '(none)'}. See \`dbops list\`.`,
      )
    }
    return expand(config, name, false)
  })
}

function expand(config: ResolvedConfig, name: string, continueOnError: boolean): PlanNode {
  const steps = config.pipelines[name]
  if (steps)
    return {
      kind: 'sequence',
      name,
      steps: steps.map((s) => expandStep(config, s)),
      continueOnError,
    }
  return { kind: 'task', id: name, continueOnError }
}

function expandStep(config: ResolvedConfig, step: Step): PlanNode {
  if (typeof step === 'string') return expand(config, step, false)
  if ('parallel' in step)
    return { kind: 'parallel', steps: step.parallel.map((s) => expandStep(config, s)) }
  return expand(config, step.task, step.continueOnError ?? false)
}
