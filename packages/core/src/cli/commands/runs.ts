import { recentRuns, type RunRecord } from '../../scheduler/history.ts'
import { openSession } from '../../session.ts'
import type { CoreInput } from '../core-commands.ts'
import type { Globals } from '../declaration/global-flags.ts'
import { out } from '../output.ts'
import { bar, drawsPictures, sparkline } from '../sparkline.ts'

export async function runsCommand({ flags }: CoreInput<'runs'>, globals: Globals): Promise<number> {
  const { schedule, limit } = flags
  const session = await openSession({
    configFile: globals.config,
    env: { command: 'runs', dryRun: false },
  })
  try {
    // A schedule that is no longer in the config is still listed: its history is kept.
    const ctx = session.createContext({ signal: new AbortController().signal, dryRun: false })
    const runs = await recentRuns(ctx.db, { schedule, limit })
    if (globals.json) {
      out(JSON.stringify({ runs: runs.map(toJson) }, null, 2))
      return 0
    }
    if (runs.length === 0) {
      out(
        `No scheduled runs recorded in ${ctx.db.description}${schedule ? ` for schedule '${schedule}'` : ''}. \`dbops watch\` records them.`,
      )
      return 0
    }
    const rows = runs.map((r) => [
      `${(r.started_at ?? r.queued_at).toISOString().replace('T', ' ').slice(0, 19)}Z`,
      r.schedule,
      r.status,
      r.duration_ms === null
        ? r.status === 'running'
          ? `${Math.round((Date.now() - (r.started_at ?? r.queued_at).getTime()) / 1000)}s…`
          : '-'
        : `${(r.duration_ms / 1000).toFixed(1)}s`,
      `${r.host}:${r.pid}`,
      firstLine(r.error ?? ''),
    ])
    const pictures = drawsPictures(globals.json)
    if (pictures) {
      for (const line of scheduleTrends(runs)) out(line)
      out()
      const longest = Math.max(...runs.map((r) => r.duration_ms ?? 0))
      for (const [i, r] of runs.entries())
        rows[i]!.splice(4, 0, bar(r.duration_ms ?? 0, longest, 8))
    }
    const header = [
      'STARTED',
      'SCHEDULE',
      'STATUS',
      'DURATION',
      ...(pictures ? [''] : []),
      'WATCHER',
      'ERROR',
    ]
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd()
    out(line(header))
    for (const row of rows) out(line(row))
    return 0
  } finally {
    await session.close()
  }
}

function toJson(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    schedule: r.schedule,
    tick: r.tick.toISOString(),
    pipelines: r.pipelines,
    tags: r.tags,
    status: r.status,
    queuedAt: r.queued_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
    durationMs: r.duration_ms,
    error: r.error,
    host: r.host,
    pid: r.pid,
    watcher: r.watcher,
  }
}

/** On a terminal: per schedule, the durations of its listed runs oldest to newest, and how many failed. */
function scheduleTrends(runs: RunRecord[]): string[] {
  const names = [...new Set(runs.map((r) => r.schedule))]
  const width = Math.max(...names.map((n) => n.length))
  return names.map((name) => {
    const own = runs
      .filter((r) => r.schedule === name)
      .slice(0, 40)
      .reverse()
    const failed = own.filter((r) => r.status === 'failed' || r.status === 'lost').length
    return `${name.padEnd(width)}  ${sparkline(own.map((r) => r.duration_ms))}  ${own.length} run${own.length === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`
  })
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 100 ? `${line.slice(0, 99)}…` : line
}
