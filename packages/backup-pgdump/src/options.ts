import { z } from 'zod'

/** X25519 age recipients: `age1` + 58 bech32 characters. */
const AGE_RECIPIENT = /^age1[02-9ac-hj-np-z]{58}$/

/**
 * `BACKUP_COMPRESSION` fills the default when the config says nothing:
 * `true` -> auto (zstd where the CLI exists, else gzip), `false` -> none, or an algorithm.
 */
function compressionFromEnv(value: string | undefined): string {
  if (value !== undefined) return value
  const raw = process.env.BACKUP_COMPRESSION?.trim().toLowerCase()
  if (raw === undefined || raw === '' || raw === 'true' || raw === '1') return 'auto'
  if (raw === 'false' || raw === '0') return 'none'
  return raw
}

export const pgdumpOptionsSchema = z.strictObject({
  /** `custom` (default, restorable selectively and in parallel), `directory` (parallel dump with `jobs`), `plain` (SQL). */
  format: z.enum(['custom', 'directory', 'plain']).default('custom'),
  /** pg_dump --jobs for the directory format. */
  jobs: z.number().int().min(1).max(64).default(1),
  /** What to dump: the configured database (default), a list of databases, or `all` (every database plus globals). */
  databases: z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]).optional(),
  /** With a list or `all`, also store `pg_dumpall --globals-only` (roles, tablespaces) with each set. */
  globals: z.boolean().optional(),
  /** Leave role passwords out of the globals (needed where pg_authid is not readable, e.g. managed services). */
  noRolePasswords: z.boolean().default(false),

  /** Default from BACKUP_COMPRESSION, else `auto` (zstd where its CLI exists, else gzip). */
  compression: z
    .enum(['auto', 'zstd', 'gzip', 'none'])
    .optional()
    .transform((value, ctx) => {
      const resolved = compressionFromEnv(value)
      if (resolved === 'auto' || resolved === 'zstd' || resolved === 'gzip' || resolved === 'none')
        return resolved
      ctx.addIssue({
        code: 'custom',
        message: `BACKUP_COMPRESSION='${String(resolved)}' is not a compression: use true, false, zstd, gzip or none`,
      })
      return z.NEVER
    }),
  /** zstd 1-19 (default 3), gzip 1-9 (default 6). */
  compressionLevel: z.number().int().min(1).max(19).optional(),
  /** zstd worker threads; 0 = one per core. */
  compressionThreads: z.number().int().min(0).default(0),

  encryption: z
    .strictObject({
      /** age X25519 public keys (`age1...`). The private identity is never in the config. */
      recipients: z
        .array(
          z
            .string()
            .regex(
              AGE_RECIPIENT,
              'not an age X25519 recipient (age1 followed by 58 characters; make one with age-keygen)',
            ),
        )
        .min(1),
      /** `cli` uses the age binary (fast), `library` the age-encryption npm package; `auto` prefers the CLI. */
      engine: z.enum(['auto', 'cli', 'library']).default('auto'),
      /** File holding the identity for verify/restore; DBOPS_AGE_IDENTITY / DBOPS_AGE_IDENTITY_FILE override it. */
      identityFile: z.string().optional(),
    })
    .optional(),

  /** pg_dump selection and behaviour, passed through. */
  schemas: z.array(z.string()).default([]),
  excludeSchemas: z.array(z.string()).default([]),
  tables: z.array(z.string()).default([]),
  excludeTables: z.array(z.string()).default([]),
  excludeTableData: z.array(z.string()).default([]),
  noOwner: z.boolean().default(false),
  noPrivileges: z.boolean().default(false),
  /** Further pg_dump arguments, appended as given. Connection options and passwords do not belong here. */
  extraArgs: z.array(z.string()).default([]),
  /** Seconds pg_dump waits for a table lock before failing (`--lock-wait-timeout`); 0 waits forever. */
  lockWaitTimeoutSec: z.number().int().nonnegative().default(0),

  /** Directory of pg_dump/pg_restore/psql/pg_dumpall (e.g. /usr/lib/postgresql/16/bin). */
  binDir: z.string().optional(),
  /** Full path of pg_dump, when it does not live beside pg_restore. */
  pgDumpPath: z.string().optional(),
  /** Tables whose estimate is below this get an exact row count (in pg_dump's snapshot) in the manifest. */
  exactCountBelow: z.number().int().nonnegative().default(100_000),
  /** Where directory-format dumps and parallel restores keep their working files (default: the OS temp dir). */
  scratchDir: z.string().optional(),

  verify: z
    .strictObject({
      /** What `pgdump:verify` proves: `checksum`, `archive` (decrypt, decompress, pg_restore --list) or `restore` (into a scratch database). */
      level: z.enum(['checksum', 'archive', 'restore']).default('archive'),
      /** A server for scratch restores, instead of the configured one. */
      connectionUrl: z.string().optional(),
      /** Destination the deep check reads from (default: the first). */
      from: z.string().optional(),
    })
    .default(() => ({ level: 'archive' as const })),
})

export type PgdumpOptions = z.output<typeof pgdumpOptionsSchema>
export type PgdumpOptionsInput = z.input<typeof pgdumpOptionsSchema>
