import { z } from 'zod'
import { durationSchema } from 'dbops/plugin'
import { sizeSchema } from './units.ts'
import { windowSchema } from './window.ts'

/**
 * Every option of the plugin and its default. Defaults come from the tools users run today:
 * 30% bloat (pg_auto_reindexer `--index-bloat`), 10 MB (pg_index_watch `index_size_threshold`),
 * a 1 s lock_timeout (pg_auto_reindexer's PGOPTIONS) and retries after 10/30/60 s.
 */
export const reindexOptionsSchema = z.strictObject({
  /** An index is rebuilt only when its estimated bloat is at least this share of its size... */
  minBloatPercent: z.number().min(0).max(100).default(30),
  /** ...and at least this many bytes. */
  minBloatSize: sizeSchema.default(10 * 1024 ** 2),
  /** Indexes of tables smaller than this are left alone. */
  minTableSize: sizeSchema.default(1024 ** 2),
  /** Indexes larger than this are left alone (rebuild them in a planned outage). */
  maxIndexSize: sizeSchema.optional(),
  /** Only these schemas (default: every non-system schema). */
  schemas: z.array(z.string().min(1)).optional(),
  /** Glob patterns (`*`, `?`) of indexes or tables to leave alone: `audit_*`, `public.events`, `archive.*`. */
  exclude: z.array(z.string().min(1)).default([]),
  /** ANALYZE a candidate's table before trusting its estimate (pg_index_watch does this). */
  analyzeBeforeEstimate: z.boolean().default(true),
  /**
   * Confirm candidates with pgstatindex when the pgstattuple extension is installed (it reads
   * the whole index): `'deduplicated'` those whose estimate is over the thresholds only because
   * the rebuilt index deduplicates (that part rests on n_distinct), `true` every candidate.
   */
  confirmWithPgstattuple: z.union([z.boolean(), z.literal('deduplicated')]).default('deduplicated'),
  /** Rebuild at most this many indexes in one run (largest expected gain first). */
  maxIndexesPerRun: z.number().int().positive().optional(),

  /** lock_timeout of each REINDEX attempt and of each leftover drop. */
  lockTimeout: durationSchema.default(1000),
  /** statement_timeout of each REINDEX attempt; 0 means none. */
  statementTimeout: durationSchema.default(0),
  /** Attempts per index (the first included) before it is skipped and reported. */
  attempts: z.number().int().min(1).max(20).default(4),
  /** Waits between attempts; the last one repeats. */
  retryDelays: z.array(durationSchema).min(1).default([10_000, 30_000, 60_000]),
  /** maintenance_work_mem for the rebuild session (e.g. '1GB'); the server's setting when left out. */
  maintenanceWorkMem: z
    .string()
    .regex(/^\d+\s*(kB|MB|GB)?$/, "expected a PostgreSQL memory size such as '512MB'")
    .optional(),
  /** Drop the invalid `_ccnew`/`_ccold` leftovers of failed concurrent rebuilds. */
  cleanLeftovers: z.boolean().default(true),
  /** ANALYZE the table after each rebuild. */
  analyzeAfterRebuild: z.boolean().default(true),
  /** Check each rebuilt index with amcheck's bt_index_check when the extension is installed. */
  verify: z
    .strictObject({
      amcheck: z.boolean().default(true),
      /** Also check that every heap tuple is indexed (slower; bounded by maintenance_work_mem). */
      heapallindexed: z.boolean().default(false),
    })
    .default({ amcheck: true, heapallindexed: false }),

  preflight: z
    .strictObject({
      /** Refuse while a transaction of this database has been open longer than this. */
      maxTransactionAge: durationSchema.default(10 * 60_000),
      /** Only rebuild inside this window (checked before the run and before each index). */
      window: windowSchema.optional(),
      /** Free disk needed: `factor` × the largest expected new index + `reserve`. */
      disk: z
        .strictObject({
          /** Where the data directory is mounted, when dbops cannot find it on its own. */
          path: z.string().optional(),
          factor: z.number().min(1).default(2),
          reserve: sizeSchema.default(0),
        })
        .default({ factor: 2, reserve: 0 }),
      /** On a refusal: fail the step, or skip it with the reason (e.g. on standbys). */
      whenRefused: z.enum(['fail', 'skip']).default('fail'),
    })
    .default({
      maxTransactionAge: 10 * 60_000,
      disk: { factor: 2, reserve: 0 },
      whenRefused: 'fail',
    }),

  /** The advisory lock that keeps dbops maintenance runs from overlapping. */
  lock: z
    .strictObject({
      name: z.string().min(1).default('maintenance'),
      /** How long to wait for another run to finish; 0 refuses at once. */
      wait: durationSchema.default(0),
    })
    .default({ name: 'maintenance', wait: 0 }),

  /** `reindex:analyze`: statistics and (optionally) vacuum. */
  analyze: z
    .strictObject({
      /** ANALYZE a table when rows modified since its last analyze reach minModified + modifiedFraction × rows. */
      minModified: z.number().int().nonnegative().default(1000),
      modifiedFraction: z.number().min(0).max(10).default(0.05),
      /** VACUUM (ANALYZE) a table when dead rows reach minDead + deadFraction × rows. */
      vacuum: z.boolean().default(false),
      minDead: z.number().int().nonnegative().default(10_000),
      deadFraction: z.number().min(0).max(10).default(0.1),
      lockTimeout: durationSchema.default(5000),
      statementTimeout: durationSchema.default(10 * 60_000),
    })
    .default({
      minModified: 1000,
      modifiedFraction: 0.05,
      vacuum: false,
      minDead: 10_000,
      deadFraction: 0.1,
      lockTimeout: 5000,
      statementTimeout: 10 * 60_000,
    }),
})

export type ReindexOptions = z.output<typeof reindexOptionsSchema>
export type ReindexOptionsInput = z.input<typeof reindexOptionsSchema>
