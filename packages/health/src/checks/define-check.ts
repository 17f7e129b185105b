import type { z } from 'zod'
import type { CheckDefinition } from '../types.ts'

/** Declares a check; exists for the option types (its `run` sees its own options, typed). */
export function defineCheck<S extends z.ZodRawShape = Record<never, never>>(
  definition: CheckDefinition<S>,
): CheckDefinition<S> {
  return definition
}

/** A catalog column as a number: counts and sizes come back as strings (bigint) or null. */
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))
