import { z } from 'zod'
import { cronParser } from './cron-parser.ts'
import type { PluginInstance, StorageSpec } from '../plugin/types.ts'
import { endpointUrlSchema } from '../notify/endpoint-url.ts'

/** The one place core defaults live. Users write `z.input`, code reads `z.output`. */

const sslSchema = z.union(
  [
    z.boolean(),
    z.strictObject({
      rejectUnauthorized: z.boolean().default(true),
      ca: z.string().optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
    }),
  ],
  { error: 'expected true, false or { rejectUnauthorized, ca, cert, key }' },
)

export const connectionSchema = z
  .strictObject({
    url: z.string().optional(),
    host: z.string().optional(),
    port: z.coerce.number().int().min(1).max(65535).optional(),
    database: z.string().optional(),
    user: z.string().optional(),
    password: z.string().optional(),
    readReplicaUrl: z.string().optional(),
    ssl: sslSchema.optional(),
    applicationName: z.string().default('dbops'),
  })
  .refine((c) => c.url !== undefined || c.host !== undefined || c.database !== undefined, {
    message:
      'no database to connect to: set connection.url (or DATABASE_URL) or connection.host and connection.database',
  })

export const poolSchema = z.strictObject({
  max: z.coerce.number().int().positive().default(20),
  idleTimeoutMs: z.coerce.number().int().nonnegative().default(30_000),
  maxLifetimeMs: z.coerce.number().int().nonnegative().default(1_800_000),
  connectTimeoutMs: z.coerce.number().int().positive().default(10_000),
  queryTimeoutMs: z.coerce.number().int().nonnegative().default(20_000),
  /** Server-side statement_timeout for pool sessions; 0 leaves the server's setting. */
  statementTimeoutMs: z.coerce.number().int().nonnegative().default(0),
})

export const localStorageSchema = z.strictObject({
  dir: z.string().min(1),
})

const storageSpecSchema = z.custom<StorageSpec>(
  (v) => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'storage',
  { message: 'expected { dir } for a local directory or a storage factory such as s3({...})' },
)

const retentionRules = {
  /** Sets older than this many days are deleted (subject to the minimums). 0 disables. */
  maxAgeDays: z.coerce.number().int().nonnegative().default(30),
  /** Always keep the newest N sets. */
  keepLast: z.coerce.number().int().nonnegative().default(0),
  /** Never go below this many sets, whatever their age. */
  minKeep: z.coerce.number().int().nonnegative().default(3),
  /** Grandfather-father-son: newest set of each of the last N days/weeks/months. */
  gfs: z
    .strictObject({
      daily: z.number().int().nonnegative().default(0),
      weekly: z.number().int().nonnegative().default(0),
      monthly: z.number().int().nonnegative().default(0),
    })
    .optional(),
}

export const retentionSchema = z.strictObject({
  ...retentionRules,
  /** Per-destination policies by storage name: each destination keeps its own retention. */
  destinations: z.record(z.string(), z.strictObject(retentionRules)).optional(),
})

export const scheduleSchema = z
  .strictObject({
    cron: z.string(),
    run: z.union([z.string(), z.array(z.string()).min(1)]),
    timezone: z.string().optional(),
    tags: z.array(z.string()).default([]),
    /** Random delay up to this many ms before each run, to spread load. */
    jitterMs: z.number().int().nonnegative().default(0),
    overlap: z.enum(['skip', 'queue']).default('skip'),
    catchUp: z.enum(['none', 'latest']).default('none'),
    /** Dead-man's-switch ping URL, healthchecks.io style: URL/start, URL on success, URL/fail. */
    ping: endpointUrlSchema.optional(),
  })
  .superRefine((s, ctx) => {
    if (s.timezone !== undefined && !isTimeZone(s.timezone)) {
      ctx.addIssue({
        code: 'custom',
        path: ['timezone'],
        message: `unknown time zone '${s.timezone}' (use an IANA name such as Europe/Berlin)`,
      })
      return
    }
    try {
      cronParser().CronExpressionParser.parse(s.cron, { tz: s.timezone })
      const fields = s.cron.trim().split(/\s+/).length
      if (fields < 5 || fields > 6) throw new Error(`expected 5 or 6 fields, got ${fields}`)
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        path: ['cron'],
        message: `invalid cron expression '${s.cron}': ${(error as Error).message}`,
      })
    }
  })

/** True for an IANA time zone name this Node knows (`Europe/Berlin`). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz })
    return true
  } catch {
    return false
  }
}

export type Step = string | { parallel: Step[] } | { task: string; continueOnError?: boolean }

export const stepSchema: z.ZodType<Step> = z.lazy(() =>
  z.union(
    [
      z.string().min(1),
      z.strictObject({ parallel: z.array(stepSchema).min(1) }),
      z.strictObject({ task: z.string().min(1), continueOnError: z.boolean().optional() }),
    ],
    {
      error:
        "expected a task or pipeline name, { parallel: [...] } or { task: '...', continueOnError: true }",
    },
  ),
)

export const notifySchema = z.strictObject({
  webhook: endpointUrlSchema,
  on: z.array(z.enum(['failure', 'recovery', 'success'])).default(['failure', 'recovery']),
  /** `json`: the run summary; `slack`: a Slack-compatible incoming-webhook message. */
  format: z.enum(['json', 'slack']).default('json'),
})

const pluginSchema = z.custom<PluginInstance>(
  (v) => typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'plugin',
  { message: 'expected a plugin instance: call the plugin factory, e.g. health()' },
)

export const coreConfigSchema = z.strictObject({
  connection: connectionSchema,
  pool: poolSchema.default(() => poolSchema.parse({})),
  storage: z
    .record(z.string(), z.union([localStorageSchema, storageSpecSchema]))
    .default(() => ({ local: { dir: './backups' } })),
  retention: retentionSchema.default(() => retentionSchema.parse({})),
  schedules: z.record(z.string(), scheduleSchema).default(() => ({})),
  pipelines: z.record(z.string(), z.array(stepSchema).min(1)).default(() => ({})),
  plugins: z.array(pluginSchema).default(() => []),
  notify: z.array(notifySchema).default(() => []),
})

export type CoreConfigInput = z.input<typeof coreConfigSchema>
export type CoreConfig = z.output<typeof coreConfigSchema>
export type ConnectionConfig = CoreConfig['connection']
export type PoolConfig = CoreConfig['pool']
export type RetentionPolicy = z.output<typeof retentionSchema>
export type ScheduleConfig = z.output<typeof scheduleSchema>
export type NotifyConfig = z.output<typeof notifySchema>
