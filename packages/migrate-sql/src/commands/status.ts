import type { CommandContext } from 'dbops/plugin'
import type { MigrateOptions } from '../options.ts'
import { withMigrationSession } from '../runner.ts'
import { computeStatus } from '../status.ts'
import { loadParser } from '../sql/parser.ts'

export interface StatusReport {
  ledger: string
  applied: Array<{
    file: string
    version: string
    appliedAt: string
    durationMs: number | null
    baseline?: boolean
  }>
  pending: Array<{ file: string; version: string; outOfOrder: boolean }>
  drifted: Array<{ file: string; version: string; appliedAt: string }>
  missing: Array<{ name: string; version: string; appliedAt: string }>
  /** `edited`: the file changed after it stopped; apply checks that the statements already run are not what changed. */
  partial: Array<{
    file: string
    statementsApplied: number | null
    statementsTotal: number | null
    error: string | null
    edited?: true
  }>
  repeatable: Array<{ file: string; state: 'applied' | 'pending' }>
  duplicates: Array<{ version: string; files: string[] }>
}

/** `dbops migrate status`: exit 0 when up to date, 1 when something is pending, 2 on drift, missing files or duplicates. */
export async function statusCommand(ctx: CommandContext, options: MigrateOptions): Promise<number> {
  const report = await withMigrationSession(
    ctx,
    options,
    { lock: false },
    async ({ session, ledger, set }) => {
      const rows = await ledger.load(session)
      // Unchanged files match by their bytes' hash; only an edited one needs the parser for its token checksum.
      const onDisk = new Set([...set.versioned, ...set.repeatable].map((f) => f.contentSha256))
      if (rows.some((r) => !r.contentSha256 || !onDisk.has(r.contentSha256))) await loadParser()
      const status = computeStatus(set, rows, ledger, options.ledger === 'prisma')
      const iso = (d: Date) => d.toISOString()
      const r: StatusReport = {
        ledger: ledger.display,
        applied: status.applied.map(({ file, row }) => ({
          file: file.display,
          version: file.version,
          appliedAt: iso(row.appliedAt),
          durationMs: row.durationMs,
          ...(row.kind === 'baseline' ? { baseline: true } : {}),
        })),
        pending: status.pending.map((f) => ({
          file: f.display,
          version: f.version,
          outOfOrder: status.outOfOrder.includes(f),
        })),
        drifted: status.drifted.map(({ file, row }) => ({
          file: file.display,
          version: file.version,
          appliedAt: iso(row.appliedAt),
        })),
        missing: status.missing.map((row) => ({
          name: row.name,
          version: row.version,
          appliedAt: iso(row.appliedAt),
        })),
        partial: status.partial.map(({ file, row, edited }) => ({
          file: file.display,
          statementsApplied: row.statementsApplied,
          statementsTotal: row.statementsTotal,
          error: row.error,
          ...(edited ? { edited: true as const } : {}),
        })),
        repeatable: [
          ...status.repeatableApplied.map(({ file }) => ({
            file: file.display,
            state: 'applied' as const,
          })),
          ...status.repeatablePending.map((f) => ({ file: f.display, state: 'pending' as const })),
        ],
        duplicates: status.duplicates,
      }
      return r
    },
    { allowDuplicates: true, lazyParser: true },
  )
  const problems = report.drifted.length + report.missing.length + report.duplicates.length
  const code = problems
    ? 2
    : report.pending.length ||
        report.partial.length ||
        report.repeatable.some((r) => r.state === 'pending')
      ? 1
      : 0
  if (ctx.json) {
    ctx.printJson({ status: problems ? 'problems' : code ? 'pending' : 'up-to-date', ...report })
    return code
  }
  ctx.print(
    `ledger ${report.ledger}: ${report.applied.length} applied, ${report.pending.length} pending${report.partial.length ? `, ${report.partial.length} partly applied` : ''}`,
  )
  for (const a of report.applied.slice(-5))
    ctx.print(`  applied   ${a.file}  ${a.appliedAt}${a.baseline ? '  (baseline)' : ''}`)
  if (report.applied.length > 5) ctx.print(`  ... and ${report.applied.length - 5} earlier`)
  for (const p of report.partial) {
    const progress =
      p.statementsApplied === null
        ? 'started, never finished'
        : `${p.statementsApplied}/${p.statementsTotal} statements applied`
    ctx.print(
      `  PARTIAL   ${p.file}  ${progress}${p.edited ? ' (edited since: apply checks the applied statements are unchanged)' : ''}${p.error ? `: ${p.error}` : ''}`,
    )
  }
  for (const p of report.pending)
    ctx.print(
      `  pending   ${p.file}${p.outOfOrder ? '  OUT OF ORDER (older than the newest applied; refused unless --allow-out-of-order)' : ''}`,
    )
  for (const r of report.repeatable)
    ctx.print(
      `  ${r.state === 'applied' ? 'repeatable' : 'repeat   '} ${r.file}${r.state === 'pending' ? '  (new or changed: runs after the versioned files)' : ''}`,
    )
  for (const d of report.drifted)
    ctx.print(`  DRIFTED   ${d.file}  changed since it was applied at ${d.appliedAt}`)
  for (const m of report.missing)
    ctx.print(`  MISSING   ${m.name}  applied at ${m.appliedAt}, no longer on disk`)
  for (const d of report.duplicates)
    ctx.print(`  DUPLICATE version ${d.version}: ${d.files.join(', ')}`)
  return code
}
