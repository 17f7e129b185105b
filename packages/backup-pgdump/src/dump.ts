import {
  type BackupObject,
  backupSetPrefix,
  type Context,
  DbopsError,
  formatBytes,
  messageOf,
  newBackupId,
  type TaskIO,
} from 'dbops/plugin'
import { assertDumpCompatible, findTool, type ToolVersion } from './binaries.ts'
import { completeSet, manifestOf } from './complete-set.ts'
import { resolveAlgorithm } from './compression.ts'
import { Destination } from './destination.ts'
import { pgDumpAllSource, pgDumpSource, type SourceJob, type ToolRun } from './dump-sources.ts'
import { objectName } from './formats.ts'
import type { PgdumpOptions } from './options.ts'
import { scratchBase } from './scratch-dir.ts'
import { databasesToDump } from './databases.ts'
import { type Snapshot, SnapshotSession } from './snapshot-session.ts'
import { storeObject } from './store-object.ts'
import type { TableCount } from './tables.ts'

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

/** One database's backup in this run. */
interface DumpJob extends SourceJob {
  id: string
  configDir: string
  io: TaskIO
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
    const job: DumpJob = {
      ...{ options, configDir, database, algorithm, io },
      id: newBackupId(),
      scratchBase: scratchBase(configDir, options),
    }
    try {
      sets.push(await dumpDatabase(ctx, job))
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

/** One set: the snapshot session opened, the set written, and on failure nothing left of it. */
async function dumpDatabase(ctx: Context, job: DumpJob): Promise<DumpedSet> {
  const destinations = [...ctx.storage.values()].map((storage) => new Destination(storage))
  const session = await SnapshotSession.open(ctx, job.database)
  try {
    return await writeSet(ctx, job, session, destinations)
  } catch (error) {
    await session.close() // a row count may still be running in the snapshot
    for (const d of destinations) await d.removePartial()
    throw error
  } finally {
    await session.close()
  }
}

async function writeSet(
  ctx: Context,
  job: DumpJob,
  session: SnapshotSession,
  destinations: Destination[],
): Promise<DumpedSet> {
  const started = new Date()
  const phase = (what: string) =>
    ctx.logger.debug(`dump ${job.database}: ${what} at ${Date.now() - started.getTime()} ms`)
  const snapshot = await session.begin()
  const pgDump = await findTool('pg_dump', job.options, job.configDir, snapshot.server.major)
  assertDumpCompatible(pgDump, snapshot.server)
  phase(`connected, ${pgDump.path} ${pgDump.version} checked`)
  for (const d of destinations) await d.removeStalePartials(ctx, job.database)

  const prefix = backupSetPrefix(job.database, job.id)
  const counting = countRows(ctx, job, session)
  const run = toolRun(ctx, session, snapshot)
  const objects = await storeObjects(ctx, job, { prefix, destinations }, { run, pgDump, snapshot })
    // A failed count ends the snapshot's transaction: pg_dump's failure to import it says less.
    .catch((error) => {
      throw counting.failure ?? error
    })
  const tables = await counting.tables
  phase('row counts taken')
  await session.commit()

  const { host, port } = session.target
  const facts = { started, snapshot, pgDump, objects, tables, host: `${host}:${port}` }
  const complete = await completeSet(ctx, destinations, prefix, manifestOf(ctx, job, facts))
  phase('manifests written')
  const bytes = objects.reduce((n, o) => n + o.size, 0)
  const names = complete.map((d) => d.name)
  job.io.output(`${job.database}: ${formatBytes(bytes)} to ${names.join(', ')}`)
  return {
    database: job.database,
    id: job.id,
    prefix,
    destinations: names,
    objects,
    bytes,
    durationMs: Date.now() - started.getTime(),
  }
}

/** The tools' environment: libpq's (the password too, never argv), and PGOPTIONS when needed. */
function toolRun(ctx: Context, session: SnapshotSession, snapshot: Snapshot): ToolRun {
  const { target } = session
  return {
    env: {
      ...ctx.db.libpqEnv(target),
      ...(snapshot.pgOptions ? { PGOPTIONS: snapshot.pgOptions } : {}),
    },
    signal: ctx.signal,
    secrets: [target.password].filter((s): s is string => !!s),
  }
}

interface Counting {
  tables: Promise<TableCount[]>
  /** Set once the count failed. */
  failure?: Error
}

/**
 * The row counts, taken in the snapshot while pg_dump runs. A filtered dump (schemas,
 * tables, extra arguments) records none: the counts would not be of what it holds.
 */
function countRows(ctx: Context, job: DumpJob, session: SnapshotSession): Counting {
  const { options } = job
  const filtered =
    [
      options.schemas,
      options.excludeSchemas,
      options.tables,
      options.excludeTables,
      options.excludeTableData,
    ].some((l) => l.length > 0) || options.extraArgs.length > 0
  const counting: Counting = {
    tables: filtered ? Promise.resolve([]) : session.countTables(ctx, options.exactCountBelow),
  }
  counting.tables.catch((error: Error) => {
    counting.failure = error
  })
  return counting
}

/** The dump and, with globals, pg_dumpall's globals: each streamed to every live destination. */
async function storeObjects(
  ctx: Context,
  job: DumpJob,
  set: { prefix: string; destinations: Destination[] },
  tools: { run: ToolRun; pgDump: ToolVersion; snapshot: Snapshot },
): Promise<BackupObject[]> {
  const { prefix, destinations } = set
  const { options } = job
  const encrypted = !!options.encryption
  const dumpName = objectName('dump', options.format, job.algorithm, encrypted)
  const dump = await storeObject(ctx, job, destinations, {
    key: prefix + dumpName,
    role: 'dump',
    source: () => pgDumpSource(job, tools.run, tools.pgDump, tools.snapshot.id),
  })
  const objects: BackupObject[] = [{ name: dumpName, role: 'dump', ...dump }]
  ctx.logger.debug(`dump ${job.database}: dump stored`)
  const withGlobals = options.globals ?? options.databases === 'all'
  if (!withGlobals || !destinations.some((d) => d.live)) return objects
  const major = tools.snapshot.server.major
  const pgDumpAll = await findTool('pg_dumpall', options, job.configDir, major)
  const globalsName = objectName('globals', options.format, job.algorithm, encrypted)
  const globals = await storeObject(ctx, job, destinations, {
    key: prefix + globalsName,
    role: 'globals',
    source: async () => pgDumpAllSource(job, tools.run, pgDumpAll),
  })
  objects.push({ name: globalsName, role: 'globals', ...globals })
  return objects
}
