import { DbopsError, formatBytes, formatDuration, type Context, type TaskIO } from 'dbops/plugin'
import type { InvalidIndex } from './leftovers.ts'
import type { ReindexOptions } from './options.ts'
import { largestRebuild, planReindex, preflightRefusals, type ReindexPlan } from './plan.ts'
import { diskRefusal, windowRefusal, type Refusal, type ServerFacts } from './preflight.ts'
import type { IndexDecision } from './decide.ts'
import { dropIndex } from './leftover-drops.ts'
import { notStarted, rebuildIndex, type RebuildContext, type RebuildOutcome } from './rebuild.ts'
import { SERVER_FACTS } from './sql.ts'

export interface ApplyResult {
  /** `refused`: a pre-flight check said no and `preflight.whenRefused` is 'skip'. */
  status: 'done' | 'refused'
  refusals: Refusal[]
  rebuilt: number
  skipped: number
  failed: number
  reclaimedBytes: number
  durationMs: number
  indexes: RebuildOutcome[]
  /** Leftovers of earlier failed rebuilds dropped by the janitor pass. */
  leftoversDropped: string[]
  /** Invalid indexes that are not dbops' to drop: reported, kept. */
  invalidKept: InvalidIndex[]
}

/**
 * `reindex:apply`: under the maintenance advisory lock, re-checks the pre-flight gates, drops
 * the leftovers of earlier failed rebuilds, then rebuilds the planned indexes one at a time.
 * Returns the outcome of each; the task turns failures into a failed step.
 */
export async function applyReindex(
  ctx: Context,
  options: ReindexOptions,
  io: TaskIO,
  given?: ReindexPlan,
): Promise<ApplyResult> {
  const started = Date.now()
  return ctx.db.withLock(
    options.lock.name,
    async () => {
      const facts = (await ctx.db.query<ServerFacts>(SERVER_FACTS, [], { signal: ctx.signal }))
        .rows[0]!
      const plan =
        given ??
        (await planReindex(
          { db: ctx.db, logger: ctx.logger, signal: ctx.signal, dryRun: false },
          options,
        ))
      const rebuilds = plan.indexes.filter((d) => d.action === 'rebuild')
      const refusals = await preflightRefusals(ctx.db, options, facts, rebuilds, ctx.signal)
      const disk = await diskRefusal(ctx.db, options, largestRebuild(rebuilds))
      if (disk.refusal) refusals.push(disk.refusal)
      const result: ApplyResult = {
        status: 'done',
        refusals,
        rebuilt: 0,
        skipped: 0,
        failed: 0,
        reclaimedBytes: 0,
        durationMs: 0,
        indexes: [],
        leftoversDropped: [],
        invalidKept: plan.invalid.filter((i) => i.action === 'keep'),
      }
      if (refusals.length) {
        if (options.preflight.whenRefused === 'fail') throw refusalError(refusals)
        for (const r of refusals) ctx.logger.warn(`reindex refused: ${r.message}`)
        return { ...result, status: 'refused', durationMs: Date.now() - started }
      }
      const session = await ctx.db.session({
        applicationName: 'dbops-reindex',
        timeouts: { lockMs: options.lockTimeout, statementMs: options.statementTimeout },
      })
      try {
        if (options.maintenanceWorkMem)
          await session.set({ maintenance_work_mem: options.maintenanceWorkMem })
        const rc: RebuildContext = {
          db: ctx.db,
          session,
          options,
          amcheckSchema: facts.has_amcheck ? facts.amcheck_schema : null,
          signal: ctx.signal,
          logger: ctx.logger,
          progress: (text: string) => io.output(text),
        }
        if (options.cleanLeftovers)
          result.leftoversDropped = await dropPlannedLeftovers(rc, plan, io)
        result.indexes = await rebuildAll(rc, rebuilds, io)
      } finally {
        await session.close()
      }
      return { ...result, ...tally(result.indexes), durationMs: Date.now() - started }
    },
    { waitMs: options.lock.wait, signal: ctx.signal },
  )
}

/** The janitor pass: the leftovers of earlier failed rebuilds that the plan found. */
async function dropPlannedLeftovers(
  rc: RebuildContext,
  plan: ReindexPlan,
  io: TaskIO,
): Promise<string[]> {
  const dropped: string[] = []
  for (const leftover of plan.invalid.filter((i) => i.action === 'drop')) {
    io.output(`dropping leftover ${leftover.schema}.${leftover.index}`)
    if (await dropIndex(rc, leftover.schema, leftover.index, rc.signal))
      dropped.push(`${leftover.schema}.${leftover.index}`)
  }
  return dropped
}

/** The rebuilds one at a time; one the maintenance window closed on is not started. */
async function rebuildAll(
  rc: RebuildContext,
  rebuilds: IndexDecision[],
  io: TaskIO,
): Promise<RebuildOutcome[]> {
  const outcomes: RebuildOutcome[] = []
  for (const [i, decision] of rebuilds.entries()) {
    const target = { schema: decision.schema, table: decision.table, index: decision.index }
    const outside = windowRefusal(rc.options)
    const outcome = outside
      ? {
          ...notStarted(target, `not started: ${outside.message}`),
          beforeBytes: decision.sizeBytes,
        }
      : await rebuildIndex(rc, target, `[${i + 1}/${rebuilds.length}]`)
    outcomes.push(outcome)
    io.output(lineOf(outcome))
  }
  return outcomes
}

function tally(
  outcomes: RebuildOutcome[],
): Pick<ApplyResult, 'rebuilt' | 'skipped' | 'failed' | 'reclaimedBytes'> {
  return {
    rebuilt: outcomes.filter((o) => o.status === 'rebuilt').length,
    skipped: outcomes.filter((o) => o.status === 'skipped').length,
    failed: outcomes.filter((o) => o.status === 'failed').length,
    reclaimedBytes: outcomes.reduce((n, o) => n + Math.max(0, o.reclaimedBytes), 0),
  }
}

export function refusalError(refusals: Refusal[]): DbopsError {
  const [first] = refusals
  const code = refusals.length === 1 ? `REINDEX_${first!.code}` : 'REINDEX_REFUSED'
  const message =
    refusals.length === 1
      ? `reindex refused: ${first!.message}`
      : `reindex refused:\n${refusals.map((r) => `  - ${r.message}`).join('\n')}`
  return new DbopsError(code, message, { hint: refusals.map((r) => r.hint).join(' ') })
}

export function lineOf(o: RebuildOutcome): string {
  const name = `${o.schema}.${o.index}`
  if (o.status === 'rebuilt')
    return `${name}: rebuilt in ${formatDuration(o.durationMs)}, ${formatBytes(o.beforeBytes ?? 0)} → ${formatBytes(o.afterBytes ?? 0)} (${formatBytes(o.reclaimedBytes)} reclaimed)${o.verified === 'ok' ? ', amcheck ok' : ''}`
  return `${name}: ${o.status}: ${o.reason}`
}

export function summarizeApply(r: ApplyResult): string {
  if (r.status === 'refused')
    return `refused, nothing rebuilt: ${r.refusals.map((x) => x.message).join('; ')}`
  const parts = [`${r.rebuilt} rebuilt`, `${r.skipped} skipped`]
  if (r.failed) parts.push(`${r.failed} failed`)
  if (r.leftoversDropped.length) parts.push(`${r.leftoversDropped.length} leftover(s) dropped`)
  if (r.invalidKept.length) parts.push(`${r.invalidKept.length} other invalid index(es) kept`)
  return `${parts.join(', ')}; ${formatBytes(r.reclaimedBytes)} reclaimed in ${formatDuration(r.durationMs)}`
}

/** The step fails when a rebuild failed for a reason other than a policy skip. */
export function failuresError(r: ApplyResult): DbopsError | null {
  const failed = r.indexes.filter((o) => o.status === 'failed')
  if (!failed.length) return null
  return new DbopsError(
    'REINDEX_FAILED',
    `${failed.length} of ${r.indexes.length} index rebuild(s) failed: ${failed.map((o) => `${o.schema}.${o.index}: ${o.reason}`).join('; ')} (${summarizeApply(r)})`,
    {
      hint: 'The failed indexes keep their old, valid version; leftovers were dropped. Fix the cause and run again.',
    },
  )
}
