import { AsyncLocalStorage } from 'node:async_hooks'
import { messageOf } from '../errors.ts'
import { scrub } from '../secrets.ts'

/** Which task of which run some code belongs to; kept across awaits and timers by AsyncLocalStorage. */
export interface TaskScope {
  runId: string
  taskId: string
  plugin: string
  /** The step's index in its run's report. */
  step: number
}

export interface StrayRejection {
  scope: TaskScope | undefined
  error: unknown
}

const taskScope = new AsyncLocalStorage<TaskScope>()
const claims = new Set<(stray: StrayRejection) => boolean>()

/** Runs a task's code in its scope, so that a rejection it leaves unhandled can be traced back to it. */
export function runInTaskScope<T>(scope: TaskScope, fn: () => T): T {
  return taskScope.run(scope, fn)
}

/**
 * While a run lasts, the stray rejections of its tasks are its own: it reports them on
 * the step, which then cannot count as a success.
 */
export function collectStrayRejections(runId: string): { take(): StrayRejection[]; stop(): void } {
  const taken: StrayRejection[] = []
  const claim = (stray: StrayRejection) => stray.scope?.runId === runId && taken.push(stray) > 0
  claims.add(claim)
  return { take: () => taken.splice(0), stop: () => void claims.delete(claim) }
}

/** One sentence about a stray rejection, naming the task and plugin when known. */
export function describeStray(stray: StrayRejection): string {
  const who = stray.scope
    ? `task ${stray.scope.taskId} (plugin ${stray.scope.plugin})`
    : 'code outside any task'
  return `${who} left a promise rejection unhandled, an internal error: ${messageOf(stray.error)}`
}

export function strayStack(stray: StrayRejection): string | undefined {
  return stray.error instanceof Error ? stray.error.stack : undefined
}

let installed = false

/**
 * What the CLI does with a promise rejection nobody handled (a plugin's forgotten `await`,
 * a callback that throws later). Node would print a stack trace and exit 1, even after a
 * run reported success. Here: a run claims those of its tasks and fails the step; any
 * other is printed as one sentence and the process exits 1 instead of 0 — it cannot prove
 * that what it did succeeded. The stack only with DBOPS_LOG_LEVEL=debug.
 */
export function handleStrayRejections(
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): void {
  if (installed) return
  installed = true
  let unclaimed = 0
  process.on('unhandledRejection', (error) => {
    const stray: StrayRejection = { scope: taskScope.getStore(), error }
    for (const claim of claims) if (claim(stray)) return
    unclaimed++
    write(scrub(`dbops: ${describeStray(stray)}`, []))
    const stack = strayStack(stray)
    if (stack && process.env.DBOPS_LOG_LEVEL === 'debug') write(scrub(stack, []))
  })
  process.on('exit', (code) => {
    if (unclaimed > 0 && code === 0) process.exitCode = 1
  })
}
