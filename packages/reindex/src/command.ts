import {
  ExitCode,
  defineCommand,
  type Command,
  type CommandContext,
  type TaskIO,
} from 'dbops/plugin'
import { analyzeTables, tablesToMaintain } from './analyze.ts'
import { applyReindex, failuresError } from './apply.ts'
import type { ReindexOptions } from './options.ts'
import { planReindex } from './plan.ts'
import {
  formatAnalyze,
  formatAnalyzePlan,
  formatApply,
  formatApplyPlan,
  formatPlan,
} from './report.ts'

/** Progress for a terminal: one rewritten line on a TTY, else a line per phase change. */
function stderrProgress(json: boolean): TaskIO {
  let last = ''
  const tty = process.stderr.isTTY && !json
  return {
    title: () => {},
    output: (text) => {
      if (tty)
        return void process.stderr.write(
          `\r\x1b[K${text.split('\n')[0]!.slice(0, (process.stderr.columns ?? 120) - 1)}`,
        )
      const key = text.replace(/\d+/g, '#')
      if (key !== last && !json) process.stderr.write(`${text}\n`)
      last = key
    },
  }
}

export function reindexCommand(options: ReindexOptions): Command {
  return defineCommand({
    summary: 'plan and run online index rebuilds and ANALYZE',
    notes: `Exit codes: 0 done (skips by policy included), 1 refused (unless preflight.whenRefused is 'skip')
            or a rebuild failed, 2 usage error, 130 interrupted (the half-built index is dropped).`,
    subcommands: {
      plan: defineCommand({
        summary:
          'which indexes are bloated enough to rebuild, and why each is or is not chosen (ANALYZEs candidate tables first unless --dry-run)',
        flags: { all: { type: 'boolean', description: 'list every index, not only the first 40' } },
        run: async ({ flags }, ctx) => {
          const plan = await planReindex(
            { db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun: ctx.dryRun },
            options,
          )
          emit(ctx, plan, formatPlan(plan, { all: flags.all }))
          return ExitCode.ok
        },
      }),
      apply: defineCommand({
        summary:
          'rebuild them online with REINDEX INDEX CONCURRENTLY, one at a time (--dry-run: print the plan)',
        run: (_input, ctx) => apply(ctx, options),
      }),
      analyze: defineCommand({
        summary:
          'ANALYZE (and with analyze.vacuum, VACUUM) tables past their thresholds (--dry-run: list them)',
        run: async (_input, ctx) => {
          if (ctx.dryRun) {
            const todo = await tablesToMaintain(ctx.db, options, ctx.signal)
            emit(ctx, { dryRun: true, tables: todo }, formatAnalyzePlan(todo))
            return ExitCode.ok
          }
          const result = await analyzeTables(ctx, options)
          emit(ctx, result, formatAnalyze(result))
          return result.failed ? ExitCode.failed : ExitCode.ok
        },
      }),
    },
  })
}

function emit(ctx: CommandContext, value: unknown, lines: string[]): void {
  if (ctx.json) ctx.printJson(value)
  else for (const line of lines) ctx.print(line)
}

async function apply(ctx: CommandContext, options: ReindexOptions): Promise<number> {
  if (ctx.dryRun) {
    const plan = await planReindex(
      { db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun: true },
      options,
    )
    emit(ctx, { dryRun: true, plan }, formatApplyPlan(plan))
    return ExitCode.ok
  }
  const progress = stderrProgress(ctx.json)
  const result = await applyReindex(ctx, options, progress)
  if (process.stderr.isTTY && !ctx.json) process.stderr.write('\r\x1b[K')
  emit(ctx, result, formatApply(result))
  const failure = failuresError(result)
  if (failure) ctx.logger.error(failure.message)
  return failure ? ExitCode.failed : ExitCode.ok // 'refused' only happens with whenRefused: 'skip'
}
