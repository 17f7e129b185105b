import { z } from 'zod'

/**
 * `history`: where `health:check` records each run's results. On by default, in the target
 * database (as the scheduler's tables); `false` records nothing.
 */
export const historyOptionsSchema = z
  .union([
    z.literal(false),
    z.strictObject({
      /** A separate database for the history (`postgres://...`); default: the target database. */
      url: z.string().optional(),
      /** Results older than this many days are deleted after each run. */
      retainDays: z.number().int().positive().default(90),
    }),
  ])
  .default(() => ({ retainDays: 90 }))

export type HistoryOptions = z.output<typeof historyOptionsSchema>
