import { ExitCode } from '../../errors.ts'
import { runPlan, chooseRenderer } from '../../runner/run.ts'
import { planRun } from '../../runner/plan.ts'
import { openSession, processSignal } from '../../session.ts'
import type { CoreInput } from '../core-commands.ts'
import type { Globals } from '../declaration/global-flags.ts'
import { err, out } from '../output.ts'
import type { RunReport } from '../../runner/report.ts'
import { notifyAfterRun } from '../../notify/after-run.ts'

export async function runCommand(
  { flags, args }: CoreInput<'run'>,
  globals: Globals,
): Promise<number> {
  const session = await openSession({
    configFile: globals.config,
    env: { command: 'run', dryRun: globals.dryRun },
  })
  const plan = planRun(session.config, args.names)
  const abort = processSignal(globals.timeout)
  try {
    const ctx = session.createContext({
      signal: abort.signal,
      dryRun: globals.dryRun,
      tags: flags.tag,
    })
    const report = await runPlan(ctx, args.names, plan, {
      renderer: chooseRenderer(globals.json),
      secrets: session.secrets,
    })
    await notifyAfterRun(session, report)
    if (globals.json) out(JSON.stringify(report, null, 2))
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
