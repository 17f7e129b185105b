import { Listr, type ListrTask } from 'listr2'
import type { Context } from '../context.ts'
import { redact, scrub } from '../secrets.ts'
import type { TaskIO } from '../plugin/types.ts'
import type { PlanNode } from './plan.ts'
import { abortedStepError } from './abort.ts'
import {
  collectStrayRejections,
  describeStray,
  runInTaskScope,
  strayStack,
  type StrayRejection,
} from './stray-rejections.ts'
import { errorReport, type RunReport, type StepReport } from './report.ts'

export type RendererKind = 'default' | 'simple' | 'silent'

/** Chooses the listr2 renderer: JSON mode prints nothing but the report; CI and pipes get plain lines. */
export function chooseRenderer(json: boolean): RendererKind {
  if (json) return 'silent'
  if (!process.stdout.isTTY || process.env.CI) return 'simple'
  return 'default'
}

/**
 * Runs the planned pipelines with listr2 progress and returns the report of every step.
 * A step counts as done only when it returned before the run was aborted; a failed step
 * stops its sequence unless it is `continueOnError`; steps never started are `not-run`.
 */
export async function runPlan(
  ctx: Context,
  names: string[],
  plan: PlanNode[],
  options: { renderer: RendererKind; secrets: string[] },
): Promise<RunReport> {
  const started = Date.now()
  const steps: StepReport[] = []
  const reportOf = (node: PlanNode, path: string[]): void => {
    if (node.kind === 'task') {
      const registered = ctx.config.tasks.get(node.id)!
      steps.push({
        id: node.id,
        path,
        title: registered.task.title,
        status: 'not-run',
        durationMs: 0,
      })
    } else {
      const inner = node.kind === 'sequence' ? [...path, node.name] : path
      for (const s of node.steps) reportOf(s, inner)
    }
  }
  for (const node of plan) reportOf(node, [])
  let cursor = 0
  const nextReport = new Map<PlanNode, StepReport>()
  const assign = (node: PlanNode): void => {
    if (node.kind === 'task') nextReport.set(node, steps[cursor++]!)
    else for (const s of node.steps) assign(s)
  }
  for (const node of plan) assign(node)

  const clean = (text: string) => scrub(text, options.secrets)

  const toListr = (node: PlanNode): ListrTask => {
    if (node.kind === 'sequence') {
      return {
        title: node.name,
        exitOnError: !node.continueOnError,
        task: (_c, t) =>
          t.newListr(node.steps.map(toListr), { concurrent: false, exitOnError: true }),
      }
    }
    if (node.kind === 'parallel') {
      return {
        title: `in parallel: ${node.steps.map(label).join(', ')}`,
        task: (_c, t) =>
          t.newListr(node.steps.map(toListr), { concurrent: true, exitOnError: false }),
      }
    }
    const report = nextReport.get(node)!
    const { task, plugin } = ctx.config.tasks.get(node.id)!
    const scope = { runId: ctx.runId, taskId: node.id, plugin, step: steps.indexOf(report) }
    return {
      title: `${task.title} (${node.id})`,
      exitOnError: !node.continueOnError,
      task: (_c, t) =>
        runInTaskScope(scope, async () => {
          const io: TaskIO = {
            output: (text) => (t.output = clean(text)),
            title: (text) => (t.title = clean(text)),
          }
          const began = Date.now()
          try {
            ctx.signal.throwIfAborted()
            const skip = task.skip ? await task.skip(ctx) : false
            if (skip) {
              report.status = 'skipped'
              report.summary = typeof skip === 'string' ? skip : 'skipped'
              t.skip(clean(report.summary))
              return
            }
            if (ctx.dryRun && task.mutates) {
              const lines = task.plan ? await task.plan(ctx, io) : [`would run ${node.id}`]
              report.status = 'planned'
              report.plan = lines.map(clean)
              t.output = report.plan.join('\n') || 'nothing to do'
              return
            }
            const result = await task.run(ctx, io)
            ctx.signal.throwIfAborted() // finished after an abort: not reported as done
            ctx.results[node.id] = result
            report.status = 'success'
            report.result = redact(result)
            const summary = task.summarize?.(result as never)
            if (summary) {
              report.summary = clean(summary)
              t.output = report.summary
            }
          } catch (error) {
            const aborted = ctx.signal.aborted
            report.status = aborted ? 'aborted' : 'failed'
            report.error = aborted
              ? abortedStepError(
                  ctx.signal.reason,
                  error,
                  `${node.id} (${task.title})`,
                  Date.now() - began,
                )
              : errorReport(error)
            report.error.message = clean(report.error.message)
            // A task may fail with a result worth keeping (health:check fails on a critical
            // finding, and its report says which): an error carrying `result` keeps it.
            const partial = (error as { result?: unknown } | null)?.result
            if (!aborted && partial !== undefined) report.result = redact(partial)
            throw new Error(
              clean(report.error.message + (report.error.hint ? `\n${report.error.hint}` : '')),
            )
          } finally {
            report.durationMs = Date.now() - began
          }
        }),
      rendererOptions: { persistentOutput: true },
    } as ListrTask
  }

  const listr = new Listr(plan.map(toListr), {
    concurrent: false,
    exitOnError: true,
    renderer: options.renderer,
    fallbackRenderer: 'simple',
    rendererOptions: {
      collapseErrors: false,
      collapseSubtasks: false,
      showErrorMessage: true,
      persistentOutput: true,
    } as never,
    registerSignalListeners: false,
  })
  const strays = collectStrayRejections(ctx.runId)
  try {
    await listr.run()
  } catch {
    // each step's report already carries its error
  } finally {
    // Node reports a rejection once the tick that left it unhandled is over: wait for that.
    await new Promise((resolve) => setImmediate(resolve))
    strays.stop()
  }
  for (const stray of strays.take()) failForStray(ctx, steps, stray, clean)
  const failed = steps.some((s) => s.status === 'failed')
  const aborted = ctx.signal.aborted || steps.some((s) => s.status === 'aborted')
  return {
    runId: ctx.runId,
    pipelines: names,
    dryRun: ctx.dryRun,
    tags: ctx.tags,
    status: aborted ? 'aborted' : failed ? 'failed' : 'success',
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    steps,
  }
}

/**
 * A step whose code left a promise rejection unhandled cannot prove it succeeded: it fails
 * as an internal error of its plugin, said in one sentence (the stack at debug level).
 */
function failForStray(
  ctx: Context,
  steps: StepReport[],
  stray: StrayRejection,
  clean: (text: string) => string,
): void {
  const message = clean(describeStray(stray))
  ctx.logger.error(message)
  const stack = strayStack(stray)
  if (stack) ctx.logger.debug(clean(stack))
  const step = stray.scope ? steps[stray.scope.step] : undefined
  if (
    step &&
    (step.status === 'success' || step.status === 'skipped' || step.status === 'planned')
  ) {
    step.status = 'failed'
    step.error = {
      code: 'INTERNAL',
      message,
      hint: `This is a bug in ${stray.scope!.plugin}: a promise it created was rejected and nothing handled it.`,
    }
  }
}

function label(node: PlanNode): string {
  return node.kind === 'task' ? node.id : node.kind === 'sequence' ? node.name : 'parallel'
}
