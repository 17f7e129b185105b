import type { Context, Task, TaskIO } from 'dbops/plugin'
import { analyzeTables, summarizeAnalyze, tablesToMaintain, type AnalyzeResult } from './analyze.ts'
import { applyReindex, failuresError, summarizeApply, type ApplyResult } from './apply.ts'
import type { ReindexOptions } from './options.ts'
import { planReindex, type ReindexPlan } from './plan.ts'
import { formatAnalyzePlan, formatApplyPlan, formatPlan } from './report.ts'
import { DbopsError, formatBytes } from 'dbops/plugin'

/** The plan of this run's `reindex:plan` step, when it ran before `reindex:apply`. */
export function planOfThisRun(ctx: Context): ReindexPlan | undefined {
  const plan = ctx.results['reindex:plan'] as ReindexPlan | undefined
  return plan && Array.isArray(plan.indexes) && Array.isArray(plan.invalid) ? plan : undefined
}

const planFor = (ctx: Context, options: ReindexOptions, dryRun: boolean) =>
  planReindex({ db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun }, options)

export function reindexTasks(options: ReindexOptions) {
  const plan: Task<ReindexPlan> = {
    title: 'plan index rebuilds',
    run: async (ctx, io) => {
      const result = await planFor(ctx, options, ctx.dryRun)
      io.output(formatPlan(result).join('\n'))
      return result
    },
    summarize: (p) =>
      `${p.totals.rebuild} of ${p.totals.indexes} indexes to rebuild, expected gain ${formatBytes(p.totals.expectedGainBytes)}${p.refusals.length ? `; apply would refuse: ${p.refusals.map((r) => r.message).join('; ')}` : ''}`,
  }
  const apply: Task<ApplyResult> = {
    title: 'rebuild bloated indexes online',
    mutates: true,
    plan: async (ctx) => formatApplyPlan(planOfThisRun(ctx) ?? (await planFor(ctx, options, true))),
    run: async (ctx, io: TaskIO) => {
      const result = await applyReindex(ctx, options, io, planOfThisRun(ctx))
      const failure = failuresError(result)
      if (failure) throw failure
      return result
    },
    summarize: summarizeApply,
  }
  const analyze: Task<AnalyzeResult> = {
    title: 'refresh statistics',
    mutates: true,
    plan: async (ctx) => formatAnalyzePlan(await tablesToMaintain(ctx.db, options, ctx.signal)),
    run: async (ctx) => {
      const result = await analyzeTables(ctx, options)
      const failed = result.tables.filter((t) => t.status === 'failed')
      if (failed.length)
        throw new DbopsError(
          'ANALYZE_FAILED',
          `${failed.length} table(s) could not be analyzed: ${failed.map((t) => `${t.schema}.${t.table}: ${t.reason}`).join('; ')} (${summarizeAnalyze(result)})`,
        )
      return result
    },
    summarize: summarizeAnalyze,
  }
  return { plan, apply, analyze }
}
