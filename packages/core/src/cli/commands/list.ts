import { cronParser } from '../../config/cron-parser.ts'
import { openSession } from '../../session.ts'
import type { Globals } from '../declaration/global-flags.ts'
import { out } from '../output.ts'

/** The next `count` run times of a schedule, as ISO strings with their offset. */
export function nextRuns(
  cron: string,
  timezone: string | undefined,
  count = 1,
  from = new Date(),
): string[] {
  const it = cronParser().CronExpressionParser.parse(cron, { tz: timezone, currentDate: from })
  return Array.from({ length: count }, () => it.next().toISOString() ?? '')
}

export async function listCommand(globals: Globals): Promise<number> {
  const session = await openSession({
    configFile: globals.config,
    env: { command: 'list', dryRun: false },
  })
  try {
    const c = session.config
    const schedules = Object.entries(c.schedules).map(([name, s]) => {
      const nextRun = nextRuns(s.cron, s.timezone)[0]!
      return {
        name,
        cron: s.cron,
        timezone: s.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
        run: [s.run].flat(),
        tags: s.tags,
        nextRun,
        nextRunLocal: new Date(nextRun).toLocaleString('sv-SE', {
          timeZone: s.timezone,
          timeZoneName: 'short',
        }),
      }
    })
    const tasks = [...c.tasks.values()].map((t) => ({
      id: t.id,
      title: t.task.title,
      plugin: t.plugin,
      mutates: !!t.task.mutates,
    }))
    if (globals.json) {
      out(JSON.stringify({ pipelines: c.pipelines, tasks, schedules }, null, 2))
      return 0
    }
    out('Pipelines:')
    for (const [name, steps] of Object.entries(c.pipelines))
      out(
        `  ${name.padEnd(14)} ${steps.map((s) => (typeof s === 'string' ? s : 'parallel' in s ? `parallel(${s.parallel.length})` : `${s.task}${s.continueOnError ? '?' : ''}`)).join(' -> ')}`,
      )
    if (Object.keys(c.pipelines).length === 0) out('  (none)')
    out('\nTasks:')
    for (const t of tasks)
      out(`  ${t.id.padEnd(22)} ${t.title}${t.mutates ? '' : ' (read-only)'}  [${t.plugin}]`)
    out('\nSchedules:')
    for (const s of schedules)
      out(
        `  ${s.name.padEnd(12)} ${s.cron.padEnd(16)} ${s.run.join(', ').padEnd(12)} next: ${s.nextRunLocal} (${s.timezone})`,
      )
    if (schedules.length === 0) out('  (none)')
    return 0
  } finally {
    await session.close()
  }
}
