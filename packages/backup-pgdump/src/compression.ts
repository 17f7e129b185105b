import zlib from 'node:zlib'
import { PassThrough, type Duplex } from 'node:stream'
import { DbopsError } from 'dbops/plugin'
import { execa } from 'execa'
import { toolAnswers, toolFilter } from './subprocess.ts'

export type Algorithm = 'zstd' | 'gzip' | 'none'

let zstdAvailable: Promise<boolean> | undefined

/** True when a `zstd` CLI answers on PATH (checked once per process). */
export function hasZstd(): Promise<boolean> {
  zstdAvailable ??= toolAnswers('zstd')
  return zstdAvailable
}

/** `auto` becomes zstd where the CLI exists, else gzip. */
export async function resolveAlgorithm(choice: 'auto' | Algorithm): Promise<Algorithm> {
  if (choice !== 'auto') {
    if (choice === 'zstd' && !(await hasZstd())) {
      throw new DbopsError(
        'ZSTD_NOT_FOUND',
        'compression is zstd but the zstd command was not found on PATH',
        { hint: "Install zstd (apt install zstd) or set compression: 'gzip'." },
      )
    }
    return choice
  }
  return (await hasZstd()) ? 'zstd' : 'gzip'
}

export function defaultLevel(algorithm: Algorithm, level: number | undefined): number | undefined {
  if (algorithm === 'none') return undefined
  if (algorithm === 'gzip') return Math.min(level ?? 6, 9)
  return level ?? 3
}

export const extensionOf = (algorithm: Algorithm) =>
  ({ zstd: '.zst', gzip: '.gz', none: '' })[algorithm]

export function compressor(
  algorithm: Algorithm,
  level: number | undefined,
  threads: number,
  signal?: AbortSignal,
): Duplex {
  if (algorithm === 'none') return new PassThrough()
  if (algorithm === 'gzip')
    return zlib.createGzip({ level: defaultLevel('gzip', level), chunkSize: 256 * 1024 })
  // zstd: multi-threaded (-T0: one worker per core), content checksum on (the CLI default).
  return toolFilter('zstd', zstdArgs(level, threads), { signal })
}

export async function decompressor(algorithm: Algorithm, signal?: AbortSignal): Promise<Duplex> {
  if (algorithm === 'none') return new PassThrough()
  if (algorithm === 'gzip') return zlib.createGunzip({ chunkSize: 256 * 1024 })
  if (!(await hasZstd())) {
    throw new DbopsError(
      'ZSTD_NOT_FOUND',
      'this backup is zstd-compressed but the zstd command was not found on PATH',
      { hint: 'Install zstd (apt install zstd).' },
    )
  }
  return toolFilter('zstd', ['-q', '-d', '-c'], { signal, explain: explainZstdDecode })
}

/** zstd -d failing means the stored bytes are not a whole zstd stream. */
export const explainZstdDecode = (stderr: string) =>
  new DbopsError(
    'BACKUP_CORRUPT',
    `the backup could not be decompressed (zstd: ${stderr.split('\n').pop()}); the stored object is corrupt or truncated`,
  )

/**
 * The first `bytes` of what a (possibly truncated) zstd stream decodes to: zstd is stopped
 * once it has said that much, and a stream cut off mid-frame still yields its start.
 */
export async function zstdHead(compressed: Buffer, bytes: number): Promise<Buffer> {
  const zstd = execa('zstd', ['-q', '-d', '-c'], {
    input: compressed,
    stderr: 'ignore',
    buffer: false,
    reject: false,
  })
  const parts: Buffer[] = []
  let got = 0
  for await (const chunk of zstd.stdout as AsyncIterable<Buffer>) {
    parts.push(chunk)
    got += chunk.length
    if (got >= bytes) break
  }
  zstd.kill()
  const { failed, exitCode, signal } = await zstd
  // A zstd that never ran is no answer about the stream.
  if (failed && exitCode === undefined && signal === undefined)
    throw new Error('zstd could not be started')
  return Buffer.concat(parts).subarray(0, bytes)
}

export function zstdArgs(level: number | undefined, threads: number): string[] {
  return ['-q', '-c', `-${defaultLevel('zstd', level)}`, `-T${threads}`]
}
