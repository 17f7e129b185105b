import type { AnalyzeResult, TableAction } from './analyze.ts'
import type { ApplyResult } from './apply.ts'
import type { ReindexPlan } from './plan.ts'
import { formatBytes, formatDuration } from 'dbops/plugin'

/** Columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)]
}

/** The plan for people: every rebuild, then skipped indexes (all of them with `all`). */
export function formatPlan(
  plan: ReindexPlan,
  options: { all?: boolean; limit?: number } = {},
): string[] {
  const limit = options.all ? Infinity : (options.limit ?? 40)
  const lines: string[] = []
  const { totals } = plan
  lines.push(
    `${totals.rebuild} of ${totals.indexes} indexes to rebuild, expected gain ${formatBytes(totals.expectedGainBytes)} (thresholds: ≥ ${plan.thresholds.minBloatPercent}% and ≥ ${formatBytes(plan.thresholds.minBloatSize)} bloat, tables ≥ ${formatBytes(plan.thresholds.minTableSize)})`,
  )
  const shown = plan.indexes.slice(0, Math.max(limit, totals.rebuild))
  if (shown.length) {
    lines.push('')
    lines.push(
      ...table(
        ['action', 'index', 'table', 'size', 'bloat', 'gain', 'why'],
        shown.map((d) => [
          d.action,
          `${d.schema}.${d.index}`,
          d.table,
          formatBytes(d.sizeBytes),
          d.bloatPercent === null
            ? '?'
            : `${d.bloatPercent}%${d.source === 'pgstatindex' ? '*' : ''}`,
          d.bloatBytes === null ? '?' : formatBytes(d.bloatBytes),
          d.reason,
        ]),
      ),
    )
    if (plan.indexes.some((d) => d.source === 'pgstatindex'))
      lines.push('(* measured with pgstatindex)')
  }
  if (plan.indexes.length > shown.length)
    lines.push(
      `… and ${plan.indexes.length - shown.length} more skipped (--all or --json lists them)`,
    )
  if (plan.invalid.length) {
    lines.push('', 'Invalid indexes:')
    for (const i of plan.invalid)
      lines.push(
        `  ${i.schema}.${i.index} on ${i.table} (${formatBytes(i.bytes)}): ${i.action === 'drop' ? 'will be dropped' : 'kept'} — ${i.reason}`,
      )
  }
  if (plan.analyzed.length)
    lines.push('', `Analyzed before estimating: ${plan.analyzed.join(', ')}`)
  for (const note of plan.notes) lines.push(`note: ${note}`)
  if (plan.refusals.length) {
    lines.push('', 'reindex:apply would refuse to run now:')
    for (const r of plan.refusals) lines.push(`  - ${r.message}`)
  }
  return lines
}

export function formatApply(r: ApplyResult): string[] {
  if (r.status === 'refused')
    return ['refused, nothing rebuilt:', ...r.refusals.map((x) => `  - ${x.message}`)]
  const lines: string[] = []
  if (r.indexes.length) {
    lines.push(
      ...table(
        ['index', 'status', 'before', 'after', 'reclaimed', 'time', 'tries', 'amcheck', 'note'],
        r.indexes.map((o) => [
          `${o.schema}.${o.index}`,
          o.status,
          o.beforeBytes === null ? '' : formatBytes(o.beforeBytes),
          o.afterBytes === null ? '' : formatBytes(o.afterBytes),
          o.status === 'rebuilt' ? formatBytes(o.reclaimedBytes) : '',
          formatDuration(o.durationMs),
          String(o.attempts),
          o.verified ?? '',
          o.reason ?? o.notes.join('; '),
        ]),
      ),
    )
  } else lines.push('nothing to rebuild')
  for (const l of r.leftoversDropped) lines.push(`dropped leftover ${l}`)
  for (const i of r.invalidKept)
    lines.push(`kept invalid index ${i.schema}.${i.index}: ${i.reason}`)
  lines.push(
    `${r.rebuilt} rebuilt, ${r.skipped} skipped, ${r.failed} failed; ${formatBytes(r.reclaimedBytes)} reclaimed in ${formatDuration(r.durationMs)}`,
  )
  return lines
}

export function formatApplyPlan(plan: ReindexPlan): string[] {
  const rebuilds = plan.indexes.filter((d) => d.action === 'rebuild')
  const lines = rebuilds.map(
    (d) =>
      `would rebuild ${d.schema}.${d.index} (${formatBytes(d.sizeBytes)}, expected gain ${formatBytes(d.bloatBytes ?? 0)}): ${d.reason}`,
  )
  for (const i of plan.invalid)
    lines.push(
      i.action === 'drop'
        ? `would drop leftover ${i.schema}.${i.index}`
        : `would keep invalid ${i.schema}.${i.index}: ${i.reason}`,
    )
  for (const r of plan.refusals) lines.push(`would refuse: ${r.message}`)
  if (!lines.length)
    lines.push(`nothing to rebuild (${plan.totals.indexes} indexes under the thresholds)`)
  return lines
}

export function formatAnalyzePlan(todo: TableAction[]): string[] {
  return todo.length
    ? todo.map((t) => `would ${t.action} ${t.schema}.${t.table}: ${t.why}`)
    : ['no table passes the analyze thresholds']
}

export function formatAnalyze(r: AnalyzeResult): string[] {
  if (r.status === 'refused') return ['refused:', ...r.refusals.map((x) => `  - ${x.message}`)]
  const lines = r.tables.map(
    (t) =>
      `${t.schema}.${t.table}: ${t.action} ${t.status}${t.reason ? ` (${t.reason})` : ''} in ${formatDuration(t.durationMs)} — ${t.why}`,
  )
  lines.push(
    `${r.analyzed} analyzed, ${r.vacuumed} vacuumed, ${r.skipped} skipped, ${r.failed} failed in ${formatDuration(r.durationMs)}`,
  )
  return lines
}
