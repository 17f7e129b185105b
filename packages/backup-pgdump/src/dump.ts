import {
  Db,
  DbopsError,
  backupSetPrefix,
  cancelBackend,
  dbopsVersion,
  formatBytes,
  messageOf,
  newBackupId,
  type BackupManifest,
  type BackupObject,
  type Context,
  type Storage,
  type TaskIO,
} from 'dbops/plugin'
import { assertDumpCompatible, findTool, serverVersionOf } from './binaries.ts'
import { defaultLevel, resolveAlgorithm } from './compression.ts'
import { objectName } from './formats.ts'
import { writeManifest } from './backup-sets.ts'
import {
  NO_TIMEOUTS_PGOPTIONS,
  pgDumpAllSource,
  pgDumpSource,
  type DumpSession,
  type SourceJob,
} from './dump-sources.ts'
import { storeObject, withHints } from './store-object.ts'
import { countTables, EXPORT_SNAPSHOT_SQL } from './tables.ts'
import { explainSqlError } from './sql-errors.ts'
import type { PgdumpOptions } from './options.ts'

export interface DumpedSet {
  database: string
  id: string
  prefix: string
  destinations: string[]
  objects: BackupObject[]
  bytes: number
  durationMs: number
}

export interface DumpResult {
  sets: DumpedSet[]
}

const DATABASES_SQL = `select datname from pg_database where datallowconn and not datistemplate order by datname`

/** The snapshot's transaction, with the session timeouts of the role or database turned off. */
const BEGIN_SNAPSHOT_SQL = `begin isolation level repeatable read read only;
set local statement_timeout = 0;
set local idle_in_transaction_session_timeout = 0`

/** The server version, and the statement_timeout a new session of this role gets (pg_dump's). */
const SESSION_INFO_SQL = `select current_setting('server_version_num') as num,
  (select reset_val from pg_settings where name = 'statement_timeout') as statement_timeout`

/** The databases of this run: the configured one, the configured list, or every database. */
export async function databasesToDump(ctx: Context, options: PgdumpOptions): Promise<string[]> {
  if (!options.databases) return [ctx.db.target.database]
  if (options.databases !== 'all') return options.databases
  const { rows } = await ctx.db.query<{ datname: string }>(DATABASES_SQL, [], {
    signal: ctx.signal,
  })
  return rows.map((r) => r.datname)
}

export async function runDump(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  io: TaskIO,
): Promise<DumpResult> {
  if (ctx.storage.size === 0)
    throw new DbopsError('NO_DESTINATION', 'there is no storage destination to back up to', {
      hint: "Add one under storage in the config, e.g. storage: { local: { dir: './backups' } }.",
      exitCode: 2,
    })
  const databases = await databasesToDump(ctx, options)
  const algorithm = await resolveAlgorithm(options.compression)
  const sets: DumpedSet[] = []
  const failures: string[] = []
  for (const database of databases) {
    ctx.signal.throwIfAborted()
    io.output(`${database}: dumping`)
    try {
      sets.push(
        await dumpDatabase(ctx, options, configDir, { database, id: newBackupId(), algorithm, io }),
      )
    } catch (error) {
      if (databases.length === 1 || ctx.signal.aborted) throw error
      failures.push(`${database}: ${messageOf(error)}`)
    }
  }
  if (failures.length > 0)
    throw new DbopsError(
      'BACKUP_FAILED',
      `the backup of ${failures.length} of ${databases.length} databases failed:\n  ${failures.join('\n  ')}`,
    )
  return { sets }
}

export interface DumpJob extends SourceJob {
  id: string
  io: TaskIO
}

async function dumpDatabase(
  ctx: Context,
  options: PgdumpOptions,
  configDir: string,
  job: DumpJob,
): Promise<DumpedSet> {
  const started = new Date()
  const phase = (what: string) =>
    ctx.logger.debug(`dump ${job.database}: ${what} at ${Date.now() - started.getTime()} ms`)
  const own = job.database !== ctx.db.target.database
  const db = own
    ? new Db(
        { ...ctx.config.connection, database: job.database, readReplicaUrl: undefined },
        { ...ctx.config.pool, max: 2, queryTimeoutMs: 0 },
      )
    : ctx.db
  const secrets = [db.target.password].filter((s): s is string => !!s)
  const client = await db.connect().catch(async (error) => {
    if (own) await db.close()
    throw error
  })
  let inTransaction = false
  const prefix = backupSetPrefix(job.database, job.id)
  const destinations = [...ctx.storage.values()]
  const objects: BackupObject[] = []
  const stored: string[] = []
  // A session the server ends while it idles fails its next query with only "not queryable":
  // the server's own error (pg_terminate_backend, a timeout) arrived as an event before.
  let sessionLost: Error | undefined
  const onSessionError = (error: Error) => void (sessionLost ??= error)
  client.on('error', onSessionError)
  const sql = async <R extends Record<string, unknown>>(text: string, doing: string) => {
    try {
      return (await client.query<R>(text)).rows
    } catch (error) {
      throw explainSqlError(sessionLost ?? error, doing)
    }
  }
  try {
    // pg_dump runs in a snapshot this session exports, so the row counts recorded in the
    // manifest are of exactly the data in the dump. The snapshot lives as long as this
    // transaction: a role's statement_timeout or idle_in_transaction_session_timeout must
    // not end it (pg_dump would fail with "could not import the requested snapshot").
    await sql(BEGIN_SNAPSHOT_SQL, `starting the snapshot of ${job.database}`)
    inTransaction = true
    const [info] = await sql<{ num: string; statement_timeout: string }>(
      SESSION_INFO_SQL,
      `reading the server version of ${job.database}`,
    )
    const server = serverVersionOf(Number(info!.num))
    const pgDump = await findTool('pg_dump', options, configDir, server.major)
    assertDumpCompatible(pgDump, server)
    phase(`connected, ${pgDump.path} ${pgDump.version} checked`)
    await removeStalePartials(ctx, destinations, job.database)

    const snapshot = String(
      (await sql(EXPORT_SNAPSHOT_SQL, `exporting the snapshot of ${job.database}`))[0]!.snapshot,
    )
    // pg_dump turns statement_timeout off itself, but only after its first queries.
    const session: DumpSession = {
      snapshot,
      pgOptions: info!.statement_timeout !== '0' ? NO_TIMEOUTS_PGOPTIONS : undefined,
    }
    const filtered =
      [
        options.schemas,
        options.excludeSchemas,
        options.tables,
        options.excludeTables,
        options.excludeTableData,
      ].some((l) => l.length > 0) || options.extraArgs.length > 0
    let countingFailed: Error | undefined
    const counting = filtered
      ? Promise.resolve([])
      : countTables(client, options.exactCountBelow, ctx.signal, (message) =>
          ctx.logger.warn(`${job.database}: ${message}`),
        ).catch((error) => {
          throw sessionLost
            ? explainSqlError(sessionLost, `counting the rows of ${job.database}`)
            : error
        })
    counting.catch((error: Error) => (countingFailed = error))

    const failed = new Map<string, Error>()
    const encrypted = !!options.encryption

    const dumpName = objectName('dump', options.format, job.algorithm, encrypted)
    // A failed count ends the snapshot's transaction: pg_dump's failure to import it says less.
    const dump = await storeObject(
      ctx,
      options,
      job,
      destinations,
      failed,
      prefix + dumpName,
      'dump',
      () => pgDumpSource(ctx, options, pgDump, db, session, job, secrets),
    ).catch((error) => {
      throw countingFailed ?? error
    })
    objects.push({ name: dumpName, role: 'dump', ...dump })
    phase('dump stored')

    const withGlobals = options.globals ?? options.databases === 'all'
    if (withGlobals && failed.size < destinations.length) {
      const pgDumpAll = await findTool('pg_dumpall', options, configDir, server.major)
      const globalsName = objectName('globals', options.format, job.algorithm, encrypted)
      const globals = await storeObject(
        ctx,
        options,
        job,
        destinations,
        failed,
        prefix + globalsName,
        'globals',
        () =>
          pgDumpAllSource(ctx, options, pgDumpAll, db, job.database, secrets, session.pgOptions),
      )
      objects.push({ name: globalsName, role: 'globals', ...globals })
    }
    const tables = await counting
    phase('row counts taken')
    await sql('commit', `ending the snapshot of ${job.database}`)
    inTransaction = false

    // Confirm every object is there, whole, before the manifest makes the set exist.
    for (const storage of destinations) {
      if (failed.has(storage.name)) continue
      for (const object of objects) {
        const head = await storage.head(prefix + object.name).catch((error: Error) => error)
        if (head instanceof Error || !head || head.size !== object.size) {
          failed.set(
            storage.name,
            new Error(
              `${object.name} is ${head instanceof Error ? `unreadable (${head.message})` : head ? `${head.size} bytes, not ${object.size}` : 'missing'} after the upload`,
            ),
          )
        }
      }
    }
    const manifest: BackupManifest = {
      manifestVersion: 1,
      id: job.id,
      database: job.database,
      startedAt: started.toISOString(),
      finishedAt: new Date().toISOString(),
      serverVersion: server.version,
      pgDumpVersion: pgDump.version,
      format: options.format,
      compression: {
        algorithm: job.algorithm,
        level: defaultLevel(job.algorithm, options.compressionLevel),
      },
      encryption: options.encryption
        ? { type: 'age', recipients: options.encryption.recipients }
        : null,
      objects,
      tables,
      tags: ctx.tags,
      verification: [],
      host: `${db.target.host}:${db.target.port}`,
      dbopsVersion: dbopsVersion(),
    }
    for (const storage of destinations) {
      if (failed.has(storage.name)) continue
      try {
        await writeManifest(storage, prefix, manifest, ctx.signal)
        stored.push(storage.name)
      } catch (error) {
        failed.set(storage.name, error as Error)
      }
    }
    if (failed.size > 0) {
      const list = [...failed].map(([name, error]) => `${name}: ${messageOf(error)}`).join('; ')
      throw new DbopsError(
        'BACKUP_DESTINATION_FAILED',
        `the backup of ${job.database} (${job.id}) failed on ${[...failed.keys()].join(', ')} (${list})${stored.length ? `; it is complete on ${stored.join(', ')}` : ''}`,
        {
          hint: withHints(
            failed,
            'Fix the failed destination and run the backup again; the destinations listed as complete hold a valid set.',
          ),
        },
      )
    }
    phase('manifests written')
    const bytes = objects.reduce((n, o) => n + o.size, 0)
    job.io.output(`${job.database}: ${formatBytes(bytes)} to ${stored.join(', ')}`)
    return {
      database: job.database,
      id: job.id,
      prefix,
      destinations: stored,
      objects,
      bytes,
      durationMs: Date.now() - started.getTime(),
    }
  } catch (error) {
    if (inTransaction) {
      await cancelBackend(db, client) // a row count may still be running in the snapshot
      await client.query('rollback').catch(() => {})
    }
    // No manifest, no set: remove what this run stored where it did not complete.
    await removePartial(
      destinations.filter((d) => !stored.includes(d.name)),
      prefix,
      objects,
    )
    throw error
  } finally {
    client.off('error', onSessionError)
    client.release(sessionLost)
    if (own) await db.close()
  }
}

/**
 * What interrupted backups of this database left behind (a `kill -9` mid-dump leaves a hidden
 * temp file): removed before this one starts. A run still writing keeps its files.
 */
async function removeStalePartials(
  ctx: Context,
  destinations: Storage[],
  database: string,
): Promise<void> {
  for (const storage of destinations) {
    if (!storage.removeStalePartials) continue
    const removed = await storage.removeStalePartials(`${database}/`).catch((error: Error) => {
      ctx.logger.warn(
        `${storage.name}: the leftovers of interrupted backups could not be removed: ${messageOf(error)}`,
      )
      return []
    })
    for (const r of removed)
      ctx.logger.warn(
        `${storage.name}: removed ${r.key} (${formatBytes(r.size)}, ${r.modifiedAt.toISOString()}), left by an interrupted backup`,
      )
  }
}

async function removePartial(
  destinations: Storage[],
  prefix: string,
  objects: BackupObject[],
): Promise<void> {
  for (const storage of destinations)
    for (const object of objects) await storage.delete(prefix + object.name).catch(() => {})
}
