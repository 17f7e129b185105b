import { type CommandContext, type Context, invokeCommand } from 'dbops/plugin'

export interface MigrationsState {
  /** `up-to-date`, `pending` or `problems` (drifted, missing or duplicate files), as `dbops migrate status` says. */
  status: string
  ledger: string
  applied: {
    file: string
    version: string
    appliedAt: string
    durationMs: number | null
    baseline?: boolean
  }[]
  pending: { file: string; version: string; outOfOrder: boolean }[]
  drifted: { file: string; version: string; appliedAt: string }[]
  missing: { name: string; version: string; appliedAt: string }[]
  partial: {
    file: string
    statementsApplied: number | null
    statementsTotal: number | null
    error: string | null
  }[]
}

/**
 * Migration status from the migrate plugin's own `dbops migrate status --json`, run in this
 * process: the dashboard reads what that command reports and imports no plugin. `null` when
 * the config has no migrate command.
 */
export async function readMigrations(ctx: Context): Promise<MigrationsState | null> {
  const entry = ctx.config.commands.get('migrate')
  if (!entry) return null
  let document: unknown
  const quiet: CommandContext = {
    ...ctx,
    json: true,
    print: () => {},
    printJson: (value) => (document = value),
  }
  await invokeCommand('migrate', entry.command, ['status'], quiet)
  if (!document || typeof document !== 'object')
    throw new Error('`dbops migrate status --json` printed no report')
  const d = document as Partial<MigrationsState>
  return {
    status: String(d.status ?? 'unknown'),
    ledger: String(d.ledger ?? ''),
    applied: d.applied ?? [],
    pending: d.pending ?? [],
    drifted: d.drifted ?? [],
    missing: d.missing ?? [],
    partial: d.partial ?? [],
  }
}
