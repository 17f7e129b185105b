import { CATALOG } from '../checks/index.ts'
import { checkOptions, type HealthOptions } from '../options.ts'
import type { CheckDefinition } from '../types.ts'

export interface Selection {
  only?: string[]
  skip?: string[]
}

/** The checks a run covers: enabled in the config, then narrowed by only/skip. */
export function selectChecks(options: HealthOptions, selection: Selection = {}): CheckDefinition[] {
  const only = selection.only ?? options.only
  const skip = new Set([...(options.skip ?? []), ...(selection.skip ?? [])])
  return CATALOG.filter((c) => {
    if (only) return only.includes(c.id) && !skip.has(c.id)
    return checkOptions(options, c.id).enabled && !skip.has(c.id)
  })
}
