import { z } from 'zod'
import { parseDuration } from '../duration.ts'

/**
 * A plugin option that is a duration, as milliseconds: a number of milliseconds, or text with
 * a unit (`500ms`, `10s`, `30m`, `2h`). Give defaults in milliseconds: `.default(5000)`.
 */
export const durationSchema = z
  .union([z.number().nonnegative(), z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value
    try {
      return parseDuration(value, 'duration')
    } catch {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is not a duration (use a number with a unit: 500ms, 10s, 30m, 2h)`,
      })
      return z.NEVER
    }
  })
