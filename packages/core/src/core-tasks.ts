import type { Task } from './plugin/types.ts'
import { applyRetention, type RetentionOutcome } from './retention/apply.ts'

const summarizeRetention = (outcomes: RetentionOutcome[]) =>
  outcomes
    .map(
      (o) =>
        `${o.storage}: kept ${o.kept.length}, deleted ${o.deleted.length}${o.leftAlone.length ? `, left ${o.leftAlone.length} damaged alone` : ''}`,
    )
    .join('; ') || 'no destinations'

/** Tasks built into core, available to every config. */
export const coreTasks = {
  'retention:apply': {
    title: 'apply the retention policy',
    mutates: true,
    run: (ctx) => applyRetention(ctx, { dryRun: false }),
    plan: async (ctx) => {
      const outcomes = await applyRetention(ctx, { dryRun: true })
      return outcomes.flatMap((o) =>
        Object.entries(o.why).map(([id, why]) => `${o.storage} ${id}: ${why}`),
      )
    },
    summarize: summarizeRetention,
  } satisfies Task<RetentionOutcome[]>,
} as const
