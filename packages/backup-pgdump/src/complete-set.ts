import {
  type BackupManifest,
  type BackupObject,
  type Context,
  DbopsError,
  dbopsVersion,
  messageOf,
} from 'dbops/plugin'
import type { ToolVersion } from './binaries.ts'
import { defaultLevel } from './compression.ts'
import type { Destination } from './destination.ts'
import type { SourceJob } from './dump-sources.ts'
import type { Snapshot } from './snapshot-session.ts'
import { withHints } from './store-object.ts'
import type { TableCount } from './tables.ts'

/** What a set's manifest records beyond the job: the run's facts. */
export interface SetFacts {
  started: Date
  snapshot: Snapshot
  pgDump: ToolVersion
  objects: BackupObject[]
  tables: TableCount[]
  host: string
}

export function manifestOf(
  ctx: Context,
  job: SourceJob & { id: string },
  facts: SetFacts,
): BackupManifest {
  const { options } = job
  return {
    manifestVersion: 1,
    id: job.id,
    database: job.database,
    startedAt: facts.started.toISOString(),
    finishedAt: new Date().toISOString(),
    serverVersion: facts.snapshot.server.version,
    pgDumpVersion: facts.pgDump.version,
    format: options.format,
    compression: {
      algorithm: job.algorithm,
      level: defaultLevel(job.algorithm, options.compressionLevel),
    },
    encryption: options.encryption
      ? { type: 'age', recipients: options.encryption.recipients }
      : null,
    objects: facts.objects,
    tables: facts.tables,
    tags: ctx.tags,
    verification: [],
    host: facts.host,
    dbopsVersion: dbopsVersion(),
  }
}

/**
 * Makes the set exist: where every object is there and whole, the manifest is written. A
 * destination where that failed fails the run, naming where the set is complete.
 */
export async function completeSet(
  ctx: Context,
  destinations: Destination[],
  prefix: string,
  manifest: BackupManifest,
): Promise<Destination[]> {
  for (const d of destinations) await d.confirm(prefix, manifest.objects)
  for (const d of destinations) await d.finish(prefix, manifest, ctx.signal)
  const complete = destinations.filter((d) => d.complete)
  const failed = destinations.flatMap((d): [string, Error][] =>
    d.failure ? [[d.name, d.failure]] : [],
  )
  if (failed.length === 0) return complete
  const list = failed.map(([name, error]) => `${name}: ${messageOf(error)}`).join('; ')
  const where = complete.map((d) => d.name).join(', ')
  throw new DbopsError(
    'BACKUP_DESTINATION_FAILED',
    `the backup of ${manifest.database} (${manifest.id}) failed on ${failed.map(([name]) => name).join(', ')} (${list})${where ? `; it is complete on ${where}` : ''}`,
    {
      hint: withHints(
        failed,
        'Fix the failed destination and run the backup again; the destinations listed as complete hold a valid set.',
      ),
    },
  )
}
