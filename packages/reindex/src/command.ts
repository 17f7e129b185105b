import {
  ExitCode,
  UsageError,
  takeFlag,
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

export const reindexHelp = `dbops reindex <plan|apply|analyze> [options]

  plan      which indexes are bloated enough to rebuild, and why each is or is not chosen
            (ANALYZEs candidate tables first unless --dry-run)
  apply     rebuild them online with REINDEX INDEX CONCURRENTLY, one at a time
  analyze   ANALYZE (and with analyze.vacuum, VACUUM) tables past their thresholds

Options:
  --json      one JSON document on stdout
  --dry-run   apply/analyze: print what would be done, change nothing
  --all       plan: list every index, not only the first 40

Exit codes: 0 done (skips by policy included), 1 refused (unless preflight.whenRefused is 'skip')
            or a rebuild failed, 2 usage error, 130 interrupted (the half-built index is dropped).`

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
  return {
    summary: 'plan and run online index rebuilds and ANALYZE',
    help: reindexHelp,
    async run(argv: string[], ctx: CommandContext) {
      const args = [...argv]
      const all = takeFlag(args, '--all')
      const sub = args.shift()
      if (args.length)
        throw new UsageError(
          `unexpected argument '${args[0]}' for \`dbops reindex ${sub ?? ''}\``,
          'Run `dbops reindex --help`.',
        )
      const emit = (value: unknown, lines: string[]) =>
        ctx.json ? ctx.printJson(value) : lines.forEach((l) => ctx.print(l))
      if (sub === 'plan') {
        const plan = await planReindex(
          { db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun: ctx.dryRun },
          options,
        )
        emit(plan, formatPlan(plan, { all }))
        return ExitCode.ok
      }
      if (sub === 'apply') {
        if (ctx.dryRun) {
          const plan = await planReindex(
            { db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun: true },
            options,
          )
          emit({ dryRun: true, plan }, formatApplyPlan(plan))
          return ExitCode.ok
        }
        const progress = stderrProgress(ctx.json)
        const result = await applyReindex(ctx, options, progress)
        if (process.stderr.isTTY && !ctx.json) process.stderr.write('\r\x1b[K')
        emit(result, formatApply(result))
        const failure = failuresError(result)
        if (failure) ctx.logger.error(failure.message)
        return failure ? ExitCode.failed : ExitCode.ok // 'refused' only happens with whenRefused: 'skip'
      }
      if (sub === 'analyze') {
        if (ctx.dryRun) {
          const todo = await tablesToMaintain(ctx.db, options, ctx.signal)
          emit({ dryRun: true, tables: todo }, formatAnalyzePlan(todo))
          return ExitCode.ok
        }
        const result = await analyzeTables(ctx, options)
        emit(result, formatAnalyze(result))
        return result.failed ? ExitCode.failed : ExitCode.ok
      }
      throw new UsageError(
        sub ? `unknown reindex command '${sub}'` : 'name a reindex command: plan, apply or analyze',
        'Run `dbops reindex --help`.',
      )
    },
  }
}
