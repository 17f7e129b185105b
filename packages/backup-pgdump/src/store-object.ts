import { PassThrough, type Duplex } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import {
  DbopsError,
  measuringStream,
  messageOf,
  type Context,
  type PutResult,
  type Storage,
} from 'dbops/plugin'
import { quiet } from './subprocess.ts'
import { compressor, zstdHead } from './compression.ts'
import { encryptor } from './encryption.ts'
import { outputCheck } from './formats.ts'
import {
  ALL_DESTINATIONS_FAILED,
  checkCompressedOutput,
  checkOutput,
  fanOut,
  type Branch,
} from './output-check.ts'
import type { Source } from './dump-sources.ts'
import type { DumpJob } from './dump.ts'
import type { PgdumpOptions } from './options.ts'

/**
 * Streams one object from its source through compression, encryption and hashing into
 * every destination that has not failed yet, in one pass. A destination whose upload fails
 * is dropped (and recorded in `failed`); a failure upstream (pg_dump, compression,
 * encryption) fails them all, and each aborted upload removes what it stored.
 */
export async function storeObject(
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
  const hash = measuringStream()
  const branches: Branch[] = live.map((d) => ({
    name: d.name,
    stream: quiet(new PassThrough({ highWaterMark: 1 << 20 })),
  }))
  const puts = live.map((storage, i) => {
    const branch = branches[i]!
    const drop = (error: Error) => {
      branch.failed = error
      branch.stream.destroy() // the fan-out drops it at once and carries on with the others
      throw error
    }
    return storage
      .put(key, branch.stream, { signal: ctx.signal, metadata: { 'dbops-role': role } })
      .then(
        // A put that returns before reading everything would hold the other destinations back.
        (result) =>
          branch.stream.readableEnded
            ? result
            : drop(
                new Error(
                  `its storage returned before reading the whole object (${result.size} bytes)`,
                ),
              ),
        drop,
      )
  })
  puts.forEach((p) => p.catch(() => {}))
  const encrypt: Duplex[] = []
  try {
    if (options.encryption)
      encrypt.push(
        quiet(
          await encryptor(options.encryption.recipients, options.encryption.engine, ctx.signal),
        ),
      )
    ctx.signal.throwIfAborted()
    const input = await source()
    const stages: Duplex[] = input.compressed
      ? [checkCompressedOutput(check, zstdHead)]
      : [
          checkOutput(check),
          compressor(
            job.algorithm,
            options.compressionLevel,
            options.compressionThreads,
            ctx.signal,
          ),
        ]
    await pipeline([input.stream, ...stages, ...encrypt, hash, fanOut(branches)], {
      signal: ctx.signal,
    })
  } catch (error) {
    for (const stage of encrypt) stage.destroy() // stops the age process if the pipeline never started
    for (const b of branches) if (!b.stream.destroyed) b.stream.destroy(error as Error)
    // Every put removes what it stored before it settles; each settles once its stream is gone.
    const stopped = await settlePuts(puts, ctx.signal, true)
    stopped.forEach((outcome, i) => {
      if (outcome.status === 'rejected') branches[i]!.failed ??= outcome.reason as Error
    })
    for (const b of branches) failed.set(b.name, b.failed ?? (error as Error))
    // Stopped by the run (Ctrl-C, --timeout): what a destination could not clean up is said
    // now, since the run's error will be the interruption.
    if (ctx.signal.aborted) {
      for (const b of branches)
        if (b.failed instanceof DbopsError)
          ctx.logger.warn(
            `${b.name}: ${b.failed.message}${b.failed.hint ? `\n  ${b.failed.hint}` : ''}`,
          )
    }
    // The fan-out failing means every destination failed on its own (their puts say why);
    // anything else (pg_dump, compression, the signal) is the error of the run.
    const storageFailed = (error as { code?: string }).code === ALL_DESTINATIONS_FAILED
    if (storageFailed && !ctx.signal.aborted)
      throw nowhere(
        job.database,
        branches.map((b) => [b.name, b.failed ?? (error as Error)]),
      )
    throw error
  }
  const settled = await settlePuts(puts, ctx.signal, false)
  const { size, sha256 } = hash.result()
  settled.forEach((outcome, i) => {
    const name = live[i]!.name
    if (outcome.status === 'rejected') failed.set(name, outcome.reason as Error)
    else if (outcome.value.sha256 !== sha256 || outcome.value.size !== size)
      failed.set(
        name,
        new Error(
          `stored ${outcome.value.size} bytes with sha256 ${outcome.value.sha256}, sent ${size} bytes with ${sha256}`,
        ),
      )
  })
  if (live.every((d) => failed.has(d.name)))
    throw nowhere(
      job.database,
      live.map((d) => [d.name, failed.get(d.name)!]),
    )
  return { size, sha256 }
}

/** How long a destination may take to stop once told to (its stream destroyed, the run aborted). */
const STOP_GRACE_MS = 30_000

/**
 * The puts' outcomes. Once stopping (now, or when the signal aborts), a put still unsettled
 * after STOP_GRACE_MS is given up on: a storage that ignores its signal cannot hold the run.
 */
async function settlePuts(
  puts: Promise<PutResult>[],
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
      puts.map((put) =>
        Promise.race([
          put.then(
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

function nowhere(database: string, failures: [string, Error][]): DbopsError {
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
