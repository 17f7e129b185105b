import { ExitCode } from '../../errors.ts'
import { runPlan, chooseRenderer } from '../../runner/run.ts'
import { planRun } from '../../runner/plan.ts'
import { openSession, processSignal } from '../../session.ts'
import type { GlobalArgs } from '../args.ts'
import { rejectUnknownOptions, takeOption } from '../args.ts'
import { err, out } from '../output.ts'
import type { RunReport } from '../../runner/report.ts'
import { notifyAfterRun } from '../../notify/after-run.ts'

export const runHelp = `dbops run <pipeline|task...> [options]

Runs pipelines (or single tasks) from the config, in order.

Options:
  --dry-run        mutating tasks print what they would do instead of doing it
  --json           print one JSON document of the run on stdout (no progress output)
  --timeout <d>    abort the run after a duration (90s, 30m, 2h)
  --tag <name>     tag the run (recorded in backup manifests); repeatable
  --config <file>  use this config instead of searching for dbops.config.ts

Exit codes: 0 all steps succeeded, 1 a step failed, 2 usage or config error, 130 interrupted.`

export async function runCommand(args: GlobalArgs): Promise<number> {
  const rest = [...args.rest]
  const tags: string[] = []
  for (let tag = takeOption(rest, '--tag'); tag !== undefined; tag = takeOption(rest, '--tag'))
    tags.push(tag)
  rejectUnknownOptions('run', rest, ['--tag'])
  const session = await openSession({
    configFile: args.config,
    env: { command: 'run', dryRun: args.dryRun },
  })
  const plan = planRun(session.config, rest)
  const abort = processSignal(args.timeoutMs)
  try {
    const ctx = session.createContext({ signal: abort.signal, dryRun: args.dryRun, tags })
    const report = await runPlan(ctx, rest, plan, {
      renderer: chooseRenderer(args.json),
      secrets: session.secrets,
    })
    await notifyAfterRun(session, report)
    if (args.json) out(JSON.stringify(report, null, 2))
    else err(summaryLine(report))
    if (report.status === 'aborted')
      return abort.interrupted() ? ExitCode.interrupted : ExitCode.failed
    return report.status === 'success' ? ExitCode.ok : ExitCode.failed
  } finally {
    abort.dispose()
    await session.close()
  }
}

export function summaryLine(report: RunReport): string {
  const count = (status: string) => report.steps.filter((s) => s.status === status).length
  const parts = [`${count('success')} succeeded`]
  for (const status of ['failed', 'aborted', 'skipped', 'planned', 'not-run'])
    if (count(status)) parts.push(`${count(status)} ${status}`)
  const word = { success: 'done', failed: 'FAILED', aborted: 'ABORTED' }[report.status]
  return `${report.pipelines.join(' ')}: ${word} in ${(report.durationMs / 1000).toFixed(1)}s (${parts.join(', ')})${report.dryRun ? ' [dry run]' : ''}`
}
