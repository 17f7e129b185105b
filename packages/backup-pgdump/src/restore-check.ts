import { randomBytes } from 'node:crypto'
import { type Context, Db, DbopsError, quoteIdent } from 'dbops/plugin'
import type { FoundSet } from './backup-sets.ts'
import { assertRestoreCompatible, findTool } from './binaries.ts'
import { decodingFor } from './open-object.ts'
import type { PgdumpOptions } from './options.ts'
import { restoreInto } from './restore-into.ts'
import { scratchBase } from './scratch-dir.ts'
import { compareCounts } from './tables.ts'

/**
 * The `restore` level: the copy restored into a scratch database (on verify.connectionUrl or
 * the configured server), whose row counts must match the manifest's; it is dropped after.
 */
export async function restoreCheck(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  set: FoundSet,
): Promise<string> {
  const decoding = await decodingFor(set.manifest, options, configDir, ctx.signal)
  const major = Number(set.manifest.pgDumpVersion.split('.')[0])
  const tools = {
    pgRestore: await findTool('pg_restore', options, configDir, major),
    psql: await findTool('psql', options, configDir),
  }
  assertRestoreCompatible(tools.pgRestore, set.manifest.pgDumpVersion)
  const adminConnection = options.verify.connectionUrl
    ? { url: options.verify.connectionUrl, applicationName: 'dbops' }
    : { ...ctx.config.connection, readReplicaUrl: undefined }
  const admin = new Db(adminConnection, { ...ctx.config.pool, max: 1, queryTimeoutMs: 0 })
  const name =
    `dbops_verify_${set.manifest.database.replace(/[^a-z0-9_]/gi, '_').slice(0, 30)}_${randomBytes(4).toString('hex')}`.toLowerCase()
  const scratch = new Db(
    { ...adminConnection, database: name },
    { ...ctx.config.pool, max: 1, queryTimeoutMs: 0 },
  )
  try {
    await admin.query(`create database ${quoteIdent(name)} template template0`, [], {
      signal: ctx.signal,
    })
    const target = {
      database: name,
      env: scratch.libpqEnv(),
      description: scratch.description,
      secrets: [scratch.target.password].filter((s): s is string => !!s),
    }
    const choices = {
      scratchBase: scratchBase(ctx.config.dir, options),
      ...{ jobs: options.jobs, tables: [], schemas: [], clean: false, noOwner: true },
    }
    await restoreInto(set, target, choices, tools, decoding)
    const comparison = await scratch.withClient((client) =>
      compareCounts(client, set.manifest.tables),
    )
    await scratch.close()
    if (!comparison.ok)
      throw new DbopsError(
        'VERIFY_ROWS_DIFFER',
        `the scratch restore differs from the backup: ${comparison.lines.join('; ')}`,
      )
    const notes = comparison.lines.length ? ` (${comparison.lines.join('; ')})` : ''
    return `restored into a scratch database on ${admin.target.host}:${admin.target.port}; ${comparison.compared} tables, row counts match the manifest${notes}`
  } finally {
    await scratch.close().catch(() => {})
    await admin
      .query(`drop database if exists ${quoteIdent(name)} with (force)`)
      .catch(async () => admin.query(`drop database if exists ${quoteIdent(name)}`).catch(() => {}))
    await admin.close()
  }
}
