import type { Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  type BackupObject,
  type Context,
  DbopsError,
  measuringStream,
  messageOf,
  type PutResult,
} from 'dbops/plugin'
import { compressor, zstdHead } from './compression.ts'
import type { Destination, Upload } from './destination.ts'
import type { Source, SourceJob } from './dump-sources.ts'
import { encryptor } from './encryption.ts'
import { ALL_DESTINATIONS_FAILED, fanOut } from './fan-out.ts'
import { outputCheck } from './formats.ts'
import { checkCompressedOutput, checkOutput } from './output-check.ts'
import { quiet } from './quiet-stream.ts'

/** One object of a set: where it goes, what it is, and the tool that makes it. */
export interface ObjectToStore {
  key: string
  role: BackupObject['role']
  source: () => Promise<Source>
}

/**
 * Streams one object from its source through compression, encryption and hashing into
 * every destination still live, in one pass. A destination whose upload fails is put out
 * (it keeps its failure); a failure upstream (pg_dump, compression, encryption) fails them
 * all, and each aborted upload removes what it stored.
 */
export async function storeObject(
  ctx: Context,
  job: SourceJob,
  destinations: Destination[],
  object: ObjectToStore,
): Promise<{ size: number; sha256: string }> {
  const live = destinations.filter((d) => d.live)
  const uploads = live.map((d) => d.upload(object.key, object.role, ctx.signal))
  const hash = measuringStream()
  const encrypt: Duplex[] = []
  try {
    const { encryption, compressionLevel, compressionThreads } = job.options
    if (encryption)
      encrypt.push(quiet(await encryptor(encryption.recipients, encryption.engine, ctx.signal)))
    ctx.signal.throwIfAborted()
    const input = await object.source()
    const check = outputCheck(object.role, job.options.format)
    const stages: Duplex[] = input.compressed
      ? [checkCompressedOutput(check, zstdHead)]
      : [
          checkOutput(check),
          compressor(job.algorithm, compressionLevel, compressionThreads, ctx.signal),
        ]
    await pipeline([input.stream, ...stages, ...encrypt, hash, fanOut(uploads)], {
      signal: ctx.signal,
    })
  } catch (error) {
    for (const stage of encrypt) stage.destroy() // stops the age process if the pipeline never started
    throw await abandon(ctx, job.database, live, uploads, error as Error)
  }
  const settled = await settlePuts(uploads, ctx.signal, false)
  const sent = hash.result()
  for (const [i, outcome] of settled.entries()) live[i]?.accept(outcome, sent)
  if (live.every((d) => !d.live)) throw nowhere(job.database, live)
  return sent
}

/**
 * The pipeline failed: every upload is stopped, and each destination keeps why it failed.
 * Returns the error of the run: the upstream failure, or, when every destination failed on
 * its own, one sentence naming each.
 */
async function abandon(
  ctx: Context,
  database: string,
  live: Destination[],
  uploads: Upload[],
  error: Error,
): Promise<Error> {
  for (const u of uploads) if (!u.stream.destroyed) u.stream.destroy(error)
  // Every put removes what it stored before it settles; each settles once its stream is gone.
  const stopped = await settlePuts(uploads, ctx.signal, true)
  for (const [i, upload] of uploads.entries()) {
    const outcome = stopped[i]
    if (outcome?.status === 'rejected') upload.failed ??= outcome.reason as Error
    live[i]?.fail(upload.failed ?? error)
  }
  // Stopped by the run (Ctrl-C, --timeout): what a destination could not clean up is said
  // now, since the run's error will be the interruption.
  if (ctx.signal.aborted) {
    for (const u of uploads)
      if (u.failed instanceof DbopsError)
        ctx.logger.warn(
          `${u.name}: ${u.failed.message}${u.failed.hint ? `\n  ${u.failed.hint}` : ''}`,
        )
    return error
  }
  // The fan-out failing means every destination failed on its own (their puts say why);
  // anything else (pg_dump, compression, the signal) is the error of the run.
  const storageFailed = (error as { code?: string }).code === ALL_DESTINATIONS_FAILED
  return storageFailed ? nowhere(database, live) : error
}

/** How long a destination may take to stop once told to (its stream destroyed, the run aborted). */
const STOP_GRACE_MS = 30_000

/**
 * The puts' outcomes. Once stopping (now, or when the signal aborts), a put still unsettled
 * after STOP_GRACE_MS is given up on: a storage that ignores its signal cannot hold the run.
 */
async function settlePuts(
  uploads: Upload[],
  signal: AbortSignal,
  stopping: boolean,
): Promise<PromiseSettledResult<PutResult>[]> {
  let timer: NodeJS.Timeout | undefined
  let giveUp!: () => void
  const givenUp = new Promise<void>(
    (resolve) => (giveUp = () => (timer ??= setTimeout(resolve, STOP_GRACE_MS))),
  )
  if (stopping || signal.aborted) giveUp()
  else signal.addEventListener('abort', giveUp, { once: true })
  const late = new DbopsError(
    'STORAGE_DID_NOT_STOP',
    `its upload did not stop within ${STOP_GRACE_MS / 1000} s of being told to; what it stored of this object may remain`,
    {
      hint: 'Check the destination for a partial object (the storage plugin should honour its abort signal).',
    },
  )
  try {
    return await Promise.all(
      uploads.map(({ result }) =>
        Promise.race([
          result.then(
            (value): PromiseSettledResult<PutResult> => ({ status: 'fulfilled', value }),
            (reason): PromiseSettledResult<PutResult> => ({ status: 'rejected', reason }),
          ),
          givenUp.then(
            (): PromiseSettledResult<PutResult> => ({ status: 'rejected', reason: late }),
          ),
        ]),
      ),
    )
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', giveUp)
  }
}

function nowhere(database: string, destinations: Destination[]): DbopsError {
  const failures = destinations.map((d): [string, Error] => [
    d.name,
    d.failure ?? new Error('stopped'),
  ])
  return new DbopsError(
    'BACKUP_DESTINATION_FAILED',
    `the backup of ${database} could not be stored anywhere: ${failures.map(([name, e]) => `${name}: ${messageOf(e)}`).join('; ')}`,
    {
      hint: withHints(
        failures,
        'Check that each destination exists and is writable (directory permissions, disk space, bucket and credentials); earlier backups are untouched.',
      ),
    },
  )
}

/** The failed destinations' own hints (what to free, which upload to abort), then ours. */
export function withHints(failures: Iterable<[string, Error]>, ours: string): string {
  const theirs = [...failures].flatMap(([name, e]) =>
    (e as DbopsError).hint ? [`${name}: ${(e as DbopsError).hint}`] : [],
  )
  return [...new Set(theirs), ours].join('\n')
}
