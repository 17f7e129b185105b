import { durationSchema } from 'dbops/plugin'
import { z } from 'zod'

const identifier = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/,
    'must be a plain SQL identifier (letters, digits, _; at most 63)',
  )

export const migrateOptionsSchema = z.object({
  /** Directory of the migration files, relative to the config file. */
  dir: z.string().min(1).default('./migrations'),
  /** Which ledger to keep: dbops' own table, or Prisma's `_prisma_migrations` (exactly as Prisma writes it). */
  ledger: z.enum(['dbops', 'prisma']).default('dbops'),
  /** Schema of the ledger table (created if missing). */
  schema: identifier.default('public'),
  /** Name of the dbops ledger table. */
  table: identifier.default('dbops_migrations'),
  /** `${NAME}` in migration files is replaced by these values. */
  placeholders: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'placeholder names are letters, digits and _'),
      z.string(),
    )
    .default({}),
  /** `lock_timeout` set for each file (0 = none): DDL waiting longer for a lock fails instead of queueing every query behind it. */
  lockTimeout: durationSchema.default(5000),
  /** How often a file is retried after a lock timeout (SQLSTATE 55P03), with exponential backoff and jitter. */
  lockRetries: z.number().int().min(0).max(100).default(5),
  /** First backoff between lock-timeout retries; doubles each time. */
  retryBackoff: durationSchema.default(1000),
  /** `statement_timeout` for migration statements (0 = none). */
  statementTimeout: durationSchema.default(0),
  /** How long to wait for another runner's migration lock before failing. */
  lockWait: durationSchema.default(60_000),
  /** Apply a pending version older than the newest applied one (default: refuse). */
  outOfOrder: z.boolean().default(false),
  /** Apply even when an applied file is missing from disk (default: refuse). */
  allowMissing: z.boolean().default(false),
  lint: z
    .object({
      /** Lint pending files before applying them; error findings stop the apply. */
      beforeApply: z.boolean().default(true),
      /** Rules to turn off everywhere. */
      disable: z.array(z.string()).default([]),
      /** A table at most this big (pg_total_relation_size) is "small": lock and rewrite findings on it are informational. */
      smallTableBytes: z
        .number()
        .int()
        .min(0)
        .default(10 * 1024 * 1024),
      /** A table at least this big turns lock and rewrite findings into errors. */
      largeTableBytes: z
        .number()
        .int()
        .min(0)
        .default(1024 * 1024 * 1024),
    })
    .default({
      beforeApply: true,
      disable: [],
      smallTableBytes: 10 * 1024 * 1024,
      largeTableBytes: 1024 * 1024 * 1024,
    }),
})

export type MigrateOptionsInput = z.input<typeof migrateOptionsSchema>
export type MigrateOptions = z.output<typeof migrateOptionsSchema> & { configDir: string }
