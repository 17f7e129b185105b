import type { Step } from './schema.ts'
import { closest } from './closest.ts'

/** The id a step runs: a task id or a pipeline name. */
export function stepTarget(step: Step): string | undefined {
  if (typeof step === 'string') return step
  if ('task' in step) return step.task
  return undefined
}

/**
 * Every step must name a task or a pipeline, and no pipeline may include itself, directly
 * or through others. Returns problems as `path: message` lines.
 */
export function checkPipelines(
  pipelines: Record<string, Step[]>,
  taskIds: ReadonlySet<string>,
): string[] {
  const problems: string[] = []
  const names = [...taskIds, ...Object.keys(pipelines)]
  const visit = (steps: Step[], where: string): void => {
    for (const [i, step] of steps.entries()) {
      if (typeof step === 'object' && 'parallel' in step) {
        visit(step.parallel, `${where}[${i}].parallel`)
        continue
      }
      const target = stepTarget(step)!
      if (!taskIds.has(target) && !(target in pipelines)) {
        const near = closest(target, names)
        problems.push(
          `${where}[${i}]: '${target}' is neither a task nor a pipeline${near ? ` (did you mean '${near}'?)` : ''}`,
        )
      }
    }
  }
  for (const [name, steps] of Object.entries(pipelines)) visit(steps, `pipelines.${name}`)

  for (const name of Object.keys(pipelines)) {
    const cycle = findCycle(name, pipelines, [])
    if (cycle && cycle[0] === name)
      problems.push(`pipelines.${name}: includes itself (${cycle.join(' -> ')})`)
  }
  return problems
}

function findCycle(
  name: string,
  pipelines: Record<string, Step[]>,
  trail: string[],
): string[] | undefined {
  if (trail.includes(name)) return [...trail.slice(trail.indexOf(name)), name]
  for (const child of pipelineChildren(pipelines[name] ?? [], pipelines)) {
    const cycle = findCycle(child, pipelines, [...trail, name])
    if (cycle) return cycle
  }
  return undefined
}

function pipelineChildren(steps: Step[], pipelines: Record<string, Step[]>): string[] {
  return steps.flatMap((step) => {
    if (typeof step === 'object' && 'parallel' in step)
      return pipelineChildren(step.parallel, pipelines)
    const target = stepTarget(step)!
    return target in pipelines ? [target] : []
  })
}
