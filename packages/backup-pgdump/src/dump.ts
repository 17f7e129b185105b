import { createRequire } from 'node:module'
import { PassThrough, type Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Db, DbopsError, backupSetPrefix, cancelBackend, messageOf, newBackupId, type BackupManifest, type BackupObject, type Context, type Storage, type TaskIO } from 'dbops/plugin'
import { assertDumpCompatible, findTool, serverVersionOf } from './binaries.ts'
import { quiet } from './_child.ts'
import { compressor, defaultLevel, resolveAlgorithm, zstdHead, type Algorithm } from './compression.ts'
import { encryptor } from './encryption.ts'
import { objectName, outputCheck } from './_formats.ts'
import { checkCompressedOutput, checkOutput, fanOut, measure, type Branch } from './_streams.ts'
import { writeManifest } from './_sets.ts'
import { pgDumpAllSource, pgDumpSource, type Source, type SourceJob } from './_sources.ts'
import { countTables, EXPORT_SNAPSHOT_SQL } from './tables.ts'
import type { PgdumpOptions } from './options.ts'

export { pgDumpArgs } from './_sources.ts'

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

const version = (() => {
  try {
    return (createRequire(import.meta.url)('dbops/package.json') as { version: string }).version
  } catch {
    return undefined
  }
})()

const DATABASES_SQL = `select datname from pg_database where datallowconn and not datistemplate order by datname`

/** The databases of this run: the configured one, the configured list, or every database. */
export async function databasesToDump(ctx: Context, options: PgdumpOptions): Promise<string[]> {
  if (!options.databases) return [ctx.db.target.database]
  if (options.databases !== 'all') return options.databases
  const { rows } = await ctx.db.query<{ datname: string }>(DATABASES_SQL, [], { signal: ctx.signal })
  return rows.map((r) => r.datname)
}

export async function runDump(ctx: Context, options: PgdumpOptions, configDir: string, io: TaskIO): Promise<DumpResult> {
  if (ctx.storage.size === 0) throw new DbopsError('NO_DESTINATION', 'there is no storage destination to back up to', { hint: "Add one under storage in the config, e.g. storage: { local: { dir: './backups' } }.", exitCode: 2 })
  const databases = await databasesToDump(ctx, options)
  const algorithm = await resolveAlgorithm(options.compression)
  const sets: DumpedSet[] = []
  const failures: string[] = []
  for (const database of databases) {
    ctx.signal.throwIfAborted()
    io.output(`${database}: dumping`)
    try {
      sets.push(await dumpDatabase(ctx, options, configDir, { database, id: newBackupId(), algorithm, io }))
    } catch (error) {
      if (databases.length === 1 || ctx.signal.aborted) throw error
      failures.push(`${database}: ${messageOf(error)}`)
    }
  }
  if (failures.length > 0) throw new DbopsError('BACKUP_FAILED', `the backup of ${failures.length} of ${databases.length} databases failed:\n  ${failures.join('\n  ')}`)
  return { sets }
}

interface DumpJob extends SourceJob {
  id: string
  io: TaskIO
}

async function dumpDatabase(ctx: Context, options: PgdumpOptions, configDir: string, job: DumpJob): Promise<DumpedSet> {
  const started = new Date()
  const phase = (what: string) => ctx.logger.debug(`dump ${job.database}: ${what} at ${Date.now() - started.getTime()} ms`)
  const own = job.database !== ctx.db.target.database
  const db = own ? new Db({ ...ctx.config.connection, database: job.database, readReplicaUrl: undefined }, { ...ctx.config.pool, max: 2, queryTimeoutMs: 0 }) : ctx.db
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
  try {
    const info = await client.query<{ num: string }>(`select current_setting('server_version_num') as num`)
    const server = serverVersionOf(Number(info.rows[0]!.num))
    const pgDump = await findTool('pg_dump', options, configDir, server.major)
    assertDumpCompatible(pgDump, server)
    phase(`connected, ${pgDump.path} ${pgDump.version} checked`)

    // pg_dump runs in a snapshot this session exports, so the row counts recorded in the
    // manifest are of exactly the data in the dump.
    await client.query('begin isolation level repeatable read read only')
    inTransaction = true
    const snapshot = String((await client.query(EXPORT_SNAPSHOT_SQL)).rows[0]!.snapshot)
    const filtered = [options.schemas, options.excludeSchemas, options.tables, options.excludeTables, options.excludeTableData].some((l) => l.length > 0) || options.extraArgs.length > 0
    const counting = filtered ? Promise.resolve([]) : countTables(client, options.exactCountBelow, ctx.signal)
    counting.catch(() => {})

    const failed = new Map<string, Error>()
    const encrypted = !!options.encryption

    const dumpName = objectName('dump', options.format, job.algorithm, encrypted)
    const dump = await storeObject(ctx, options, job, destinations, failed, prefix + dumpName, 'dump', () => pgDumpSource(ctx, options, pgDump, db, snapshot, job, secrets))
    objects.push({ name: dumpName, role: 'dump', ...dump })
    phase('dump stored')

    const withGlobals = options.globals ?? options.databases === 'all'
    if (withGlobals && failed.size < destinations.length) {
      const pgDumpAll = await findTool('pg_dumpall', options, configDir, server.major)
      const globalsName = objectName('globals', options.format, job.algorithm, encrypted)
      const globals = await storeObject(ctx, options, job, destinations, failed, prefix + globalsName, 'globals', () => pgDumpAllSource(ctx, options, pgDumpAll, db, job.database, secrets))
      objects.push({ name: globalsName, role: 'globals', ...globals })
    }
    const tables = await counting
    phase('row counts taken')
    await client.query('commit')
    inTransaction = false

    // Confirm every object is there, whole, before the manifest makes the set exist.
    for (const storage of destinations) {
      if (failed.has(storage.name)) continue
      for (const object of objects) {
        const head = await storage.head(prefix + object.name).catch((error: Error) => error)
        if (head instanceof Error || !head || head.size !== object.size) {
          failed.set(storage.name, new Error(`${object.name} is ${head instanceof Error ? `unreadable (${head.message})` : head ? `${head.size} bytes, not ${object.size}` : 'missing'} after the upload`))
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
      compression: { algorithm: job.algorithm, level: defaultLevel(job.algorithm, options.compressionLevel) },
      encryption: options.encryption ? { type: 'age', recipients: options.encryption.recipients } : null,
      objects,
      tables,
      tags: ctx.tags,
      verification: [],
      host: `${db.target.host}:${db.target.port}`,
      dbopsVersion: version,
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
      throw new DbopsError('BACKUP_DESTINATION_FAILED', `the backup of ${job.database} (${job.id}) failed on ${[...failed.keys()].join(', ')} (${list})${stored.length ? `; it is complete on ${stored.join(', ')}` : ''}`, {
        hint: 'Fix the failed destination and run the backup again; the destinations listed as complete hold a valid set.',
      })
    }
    phase('manifests written')
    const bytes = objects.reduce((n, o) => n + o.size, 0)
    job.io.output(`${job.database}: ${formatBytes(bytes)} to ${stored.join(', ')}`)
    return { database: job.database, id: job.id, prefix, destinations: stored, objects, bytes, durationMs: Date.now() - started.getTime() }
  } catch (error) {
    if (inTransaction) {
      await cancelBackend(db, client) // a row count may still be running in the snapshot
      await client.query('rollback').catch(() => {})
    }
    // No manifest, no set: remove what this run stored where it did not complete.
    await removePartial(destinations.filter((d) => !stored.includes(d.name)), prefix, objects)
    throw error
  } finally {
    client.release()
    if (own) await db.close()
  }
}

async function removePartial(destinations: Storage[], prefix: string, objects: BackupObject[]): Promise<void> {
  for (const storage of destinations) for (const object of objects) await storage.delete(prefix + object.name).catch(() => {})
}

/**
 * Streams one object from its source through compression, encryption and hashing into
 * every destination that has not failed yet, in one pass. A destination whose upload fails
 * is dropped (and recorded in `failed`); a failure upstream (pg_dump, compression,
 * encryption) fails them all, and each aborted upload removes what it stored.
 */
async function storeObject(
  ctx: Context,
  options: PgdumpOptions,
  job: DumpJob,
  destinations: Storage[],
  failed: Map<string, Error>,
  key: string,
  role: 'dump' | 'globals',
  source: () => Promise<Source>,
): Promise<{ size: number; sha256: string }> {
  const live = destinations.filter((d) => !failed.has(d.name))
  const check = outputCheck(role, options.format)
  const hash = measure()
  const branches: Branch[] = live.map((d) => ({ name: d.name, stream: quiet(new PassThrough({ highWaterMark: 1 << 20 })) }))
  const puts = live.map((storage, i) => {
    const branch = branches[i]!
    return storage.put(key, branch.stream, { signal: ctx.signal, metadata: { 'dbops-role': role } }).then(
      (result) => result,
      (error: Error) => {
        branch.failed = error
        branch.stream.destroy()
        throw error
      },
    )
  })
  puts.forEach((p) => p.catch(() => {}))
  const encrypt: Duplex[] = []
  try {
    if (options.encryption) encrypt.push(quiet(await encryptor(options.encryption.recipients, options.encryption.engine, ctx.signal)))
    ctx.signal.throwIfAborted()
    const input = await source()
    const stages: Duplex[] = input.compressed
      ? [checkCompressedOutput(check, zstdHead)]
      : [checkOutput(check), compressor(job.algorithm, options.compressionLevel, options.compressionThreads, ctx.signal)]
    await pipeline([input.stream, ...stages, ...encrypt, hash, fanOut(branches)], { signal: ctx.signal })
  } catch (error) {
    for (const stage of encrypt) stage.destroy() // stops the age process if the pipeline never started
    // Only uploads that failed on their own make this a storage failure; the rest are ours to abort.
    const storageFailures = branches.every((b) => b.failed)
    for (const b of branches) if (!b.stream.destroyed) b.stream.destroy(error as Error)
    await Promise.allSettled(puts)
    for (const b of branches) failed.set(b.name, b.failed ?? (error as Error))
    if (storageFailures && !ctx.signal.aborted) throw nowhere(job.database, branches.map((b) => [b.name, b.failed!]))
    throw error
  }
  const settled = await Promise.allSettled(puts)
  const { size, sha256 } = hash.result()
  settled.forEach((outcome, i) => {
    const name = live[i]!.name
    if (outcome.status === 'rejected') failed.set(name, outcome.reason as Error)
    else if (outcome.value.sha256 !== sha256 || outcome.value.size !== size) failed.set(name, new Error(`stored ${outcome.value.size} bytes with sha256 ${outcome.value.sha256}, sent ${size} bytes with ${sha256}`))
  })
  if (live.every((d) => failed.has(d.name))) throw nowhere(job.database, live.map((d) => [d.name, failed.get(d.name)!]))
  return { size, sha256 }
}

function nowhere(database: string, failures: [string, Error][]): DbopsError {
  return new DbopsError('BACKUP_DESTINATION_FAILED', `the backup of ${database} could not be stored anywhere: ${failures.map(([name, e]) => `${name}: ${messageOf(e)}`).join('; ')}`, {
    hint: 'Check that each destination exists and is writable (directory permissions, disk space, bucket and credentials); earlier backups are untouched.',
  })
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(2)} GB`
}
