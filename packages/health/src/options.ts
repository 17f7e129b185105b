import { z } from 'zod'
import { CATALOG, CHECK_IDS } from './checks/index.ts'
import { formatValue, thresholdSchema } from './thresholds.ts'
import { historyOptionsSchema } from './history/options.ts'

function checkSchema(check: (typeof CATALOG)[number]) {
  const below = check.direction === 'below'
  return z
    .strictObject({
      enabled: z.boolean().default(true),
      warning: thresholdSchema(check.unit).default(check.defaults.warning),
      critical: thresholdSchema(check.unit).default(check.defaults.critical),
      /** This check's statement_timeout (default: statementTimeoutMs). */
      timeoutMs: z.number().int().positive().optional(),
      ...(check.options ?? {}),
    })
    .superRefine((o, ctx) => {
      const { warning, critical } = o as { warning: number | null; critical: number | null }
      if (warning === null || critical === null) return
      if (below ? warning < critical : warning > critical) {
        ctx.addIssue({
          code: 'custom',
          path: ['warning'],
          message: `warning (${formatValue(warning, check.unit)}) must not be ${below ? 'below' : 'above'} critical (${formatValue(critical, check.unit)})${below ? ': lower values are worse for this check' : ''}; when you move one level past the other's default, set both`,
        })
      }
    })
}

const checkNames = z.array(z.string()).superRefine((names, ctx) => {
  for (const name of names) {
    if (!CHECK_IDS.includes(name))
      ctx.addIssue({
        code: 'custom',
        message: `unknown check '${name}' (checks: ${CHECK_IDS.join(', ')})`,
      })
  }
})

export const healthOptionsSchema = z.strictObject({
  /** Per check: enabled, warning, critical (with units: '5m', '90%', '100MB'), timeoutMs and its own options. */
  checks: z
    .strictObject(Object.fromEntries(CATALOG.map((c) => [c.id, checkSchema(c).prefault({})])))
    .prefault({}),
  /** Run only these checks. */
  only: checkNames.optional(),
  /** Never run these checks. */
  skip: checkNames.default([]),
  /** statement_timeout of each check (SET LOCAL in its read-only transaction). */
  statementTimeoutMs: z.number().int().positive().default(5000),
  /** lock_timeout of each check: never queue behind DDL longer than this. */
  lockTimeoutMs: z.number().int().positive().default(1000),
  /** The whole run; checks not started by then are UNKNOWN. */
  runTimeoutMs: z.number().int().positive().default(60_000),
  /** Connections used at once (1-4). */
  concurrency: z.number().int().min(1).max(4).default(2),
  /** `database`: sessions of this database only; `cluster`: every database of the server. */
  scope: z.enum(['database', 'cluster']).default('database'),
  /** Objects listed per check (the count is always complete). */
  limit: z.number().int().positive().max(1000).default(20),
  /** The health:check task fails the pipeline at this status or worse. */
  failOn: z.enum(['critical', 'warning', 'never']).default('critical'),
  /** Where each `health:check` run is recorded (default: the target database's `dbops` schema); `false`: nowhere. */
  history: historyOptionsSchema,
  prometheus: z
    .strictObject({
      /** Write the exposition format here after each task run (node_exporter textfile collector), atomically. */
      textfile: z.string().optional(),
    })
    .prefault({}),
})

export type HealthOptionsInput = z.input<typeof healthOptionsSchema>
export type HealthOptions = z.output<typeof healthOptionsSchema>

/** One check's own options: enabled, thresholds, timeoutMs and the check's extras. */
export type CheckOptions = HealthOptions['checks'][string]

/** The options of the check `id`; the schema has an entry for every check of the catalog. */
export function checkOptions(options: HealthOptions, id: string): CheckOptions {
  const own = options.checks[id]
  if (!own) throw new Error(`health: no options for the check '${id}' (not in the catalog)`)
  return own
}
