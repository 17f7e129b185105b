import {
  Db,
  DbopsError,
  USER_SCHEMAS,
  UsageError,
  quoteIdent,
  type CommandContext,
} from 'dbops/plugin'
import { assertRestoreCompatible, findTool } from './binaries.ts'
import { findSet } from './backup-sets.ts'
import { checksumCheck } from './checksum-check.ts'
import { decodingFor } from './open-object.ts'
import { scratchBase } from './scratch-dir.ts'
import { restoreGlobals, restoreInto, type RestoreTarget } from './restore-into.ts'
import { compareCounts } from './tables.ts'
import type { PgdumpOptions } from './options.ts'

export interface RestoreRequest {
  ref: string
  targetUrl?: string
  targetDb?: string
  from?: string
  database?: string
  jobs: number
  tables: string[]
  schemas: string[]
  clean: boolean
  create: boolean
  force?: string
  globals: boolean
  noOwner: boolean
}

export interface RestoreReport {
  id: string
  database: string
  from: string
  target: string
  created: boolean
  tablesCompared: number
  rowCounts: 'match' | 'differ' | 'not-compared'
  differences: string[]
  durationMs: number
}

const USER_TABLES_SQL = `select count(*)::int as n from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f') and ${USER_SCHEMAS}`

/**
 * Restores a set into a target database, with the rails a person wants at 3am: the set,
 * the key, the tools and the stored bytes are all checked before the target is touched; the
 * configured primary is refused unless `--force <its name>`; a non-empty target is refused
 * without --clean; a missing one without --create.
 */
export async function restoreCommand(
  ctx: CommandContext,
  options: PgdumpOptions,
  configDir: string,
  req: RestoreRequest,
): Promise<RestoreReport> {
  const started = Date.now()
  const phase = (what: string) => ctx.logger.debug(`restore: ${what} at ${Date.now() - started} ms`)
  if (!req.targetUrl && !req.targetDb)
    throw new UsageError(
      'restore needs a target: --to <postgres-url> or --target-db <name> (a database on the configured server)',
      'Example: dbops backups restore latest --target-db myapp_restored --create',
    )
  const set = await findSet(ctx, req.ref, { from: req.from, database: req.database })
  const manifest = set.manifest

  phase('set found')
  // 1. Everything about the backup itself, before any connection to the target (in parallel:
  // the key, the tools and a full read of the stored bytes are independent).
  if (
    manifest.format === 'plain' &&
    (req.tables.length || req.schemas.length || req.clean || req.jobs > 1)
  ) {
    throw new UsageError(
      '--table, --schema, --clean and --jobs need a custom or directory format backup; this one is plain SQL',
    )
  }
  const major = Number(manifest.pgDumpVersion.split('.')[0])
  const checksum = checksumCheck(set, ctx.signal).catch((error) => {
    throw new DbopsError(
      'RESTORE_REFUSED',
      `refusing to restore ${manifest.id}: ${(error as Error).message}`,
      {
        hint: 'Nothing was written to the target. Restore from another destination (--from) or an earlier set.',
      },
    )
  })
  checksum.catch(() => {})
  const [decoding, pgRestore, psql] = await Promise.all([
    decodingFor(manifest, options, configDir, ctx.signal),
    findTool('pg_restore', options, configDir, major),
    findTool('psql', options, configDir),
  ])
  const tools = { pgRestore, psql }
  assertRestoreCompatible(tools.pgRestore, manifest.pgDumpVersion)
  await checksum
  phase('identity, tools and checksum checked')
  // 2. The target.
  const conn = req.targetUrl
    ? { url: req.targetUrl, applicationName: 'dbops' }
    : { ...ctx.config.connection, readReplicaUrl: undefined, database: req.targetDb }
  const targetDb = new Db(conn, { ...ctx.config.pool, max: 1, queryTimeoutMs: 0 })
  const primary = ctx.db.target
  const t = targetDb.target
  if (
    t.password === undefined &&
    primary.password &&
    t.host === primary.host &&
    t.port === primary.port &&
    t.user === primary.user
  )
    Object.assign(t, { password: primary.password })
  const samePrimary =
    t.host === primary.host && t.port === primary.port && t.database === primary.database
  try {
    if (samePrimary && req.force !== t.database) {
      throw new DbopsError(
        'RESTORE_INTO_PRIMARY',
        `refusing to restore into ${targetDb.description}: it is the configured primary database`,
        {
          hint: `Restore into another database (--target-db ${t.database}_restored --create), or pass --force ${t.database} if you mean to overwrite it.`,
          exitCode: 2,
        },
      )
    }
    // Databases are created from a maintenance connection on the same server.
    const admin = new Db(
      req.targetUrl
        ? { ...conn, database: 'postgres' }
        : { ...ctx.config.connection, readReplicaUrl: undefined },
      { ...ctx.config.pool, max: 1 },
    )
    if (admin.target.password === undefined) Object.assign(admin.target, { password: t.password })
    let created = false
    try {
      const exists =
        (
          await admin.query<{ n: number }>(
            'select count(*)::int as n from pg_database where datname = $1',
            [t.database],
            { signal: ctx.signal },
          )
        ).rows[0]!.n > 0
      if (!exists) {
        if (!req.create)
          throw new DbopsError(
            'RESTORE_TARGET_MISSING',
            `the target database ${t.database} does not exist on ${t.host}:${t.port}`,
            { hint: 'Add --create to create it.', exitCode: 2 },
          )
        await admin.query(`create database ${quoteIdent(t.database)} template template0`, [], {
          signal: ctx.signal,
        })
        created = true
      } else {
        const n = (await targetDb.query<{ n: number }>(USER_TABLES_SQL, [], { signal: ctx.signal }))
          .rows[0]!.n
        if (n > 0 && !req.clean) {
          throw new DbopsError(
            'RESTORE_TARGET_NOT_EMPTY',
            `the target database ${targetDb.description} is not empty (${n} relations)`,
            {
              hint: 'Pass --clean to drop and recreate the objects in the backup, or restore into a new database with --target-db <name> --create.',
              exitCode: 2,
            },
          )
        }
      }
    } finally {
      await admin.close()
    }

    phase('target checked')
    // 3. Stream it in.
    const target: RestoreTarget = {
      database: t.database,
      env: targetDb.libpqEnv(),
      description: targetDb.description,
      secrets: [t.password].filter((s): s is string => !!s),
    }
    if (req.globals) await restoreGlobals(set, target, tools, decoding)
    await restoreInto(
      set,
      target,
      {
        scratchBase: scratchBase(configDir, options),
        jobs: req.jobs,
        tables: req.tables,
        schemas: req.schemas,
        clean: req.clean,
        noOwner: req.noOwner,
      },
      tools,
      decoding,
    )

    phase('restored')
    // 4. Compare with what the backup recorded.
    const whole = !req.tables.length && !req.schemas.length && manifest.tables.length > 0
    const comparison = whole
      ? await targetDb.withClient((client) => compareCounts(client, manifest.tables))
      : undefined
    phase('row counts compared')
    return {
      id: manifest.id,
      database: manifest.database,
      from: set.storage.name,
      target: targetDb.description,
      created,
      tablesCompared: comparison?.compared ?? 0,
      rowCounts: !comparison ? 'not-compared' : comparison.ok ? 'match' : 'differ',
      differences: comparison?.lines ?? [],
      durationMs: Date.now() - started,
    }
  } finally {
    await targetDb.close()
  }
}
