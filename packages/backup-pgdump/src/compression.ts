import zlib from 'node:zlib'
import { PassThrough, type Duplex } from 'node:stream'
import { execFile, spawn } from 'node:child_process'
import { DbopsError } from 'dbops/plugin'
import { childFilter } from './subprocess.ts'

export type Algorithm = 'zstd' | 'gzip' | 'none'

let zstdAvailable: Promise<boolean> | undefined

/** True when a `zstd` CLI answers on PATH (checked once per process). */
export function hasZstd(): Promise<boolean> {
  zstdAvailable ??= new Promise((resolve) =>
    execFile('zstd', ['--version'], { timeout: 5000 }, (error) => resolve(!error)),
  )
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
  return childFilter('zstd', zstdArgs(level, threads), { signal })
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
  return childFilter('zstd', ['-q', '-d', '-c'], {
    signal,
    explain: (stderr) =>
      new DbopsError(
        'BACKUP_CORRUPT',
        `the backup could not be decompressed (zstd: ${stderr.split('\n').pop()}); the stored object is corrupt or truncated`,
      ),
  })
}

/** The first `bytes` of what a (possibly truncated) zstd stream decodes to. */
export function zstdHead(compressed: Buffer, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('zstd', ['-q', '-d', '-c'], { stdio: ['pipe', 'pipe', 'ignore'] })
    const parts: Buffer[] = []
    let got = 0
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      child.kill('SIGTERM')
      resolve(Buffer.concat(parts).subarray(0, bytes))
    }
    child.on('error', (e) => (settled ? undefined : ((settled = true), reject(e))))
    child.stdout.on('data', (d: Buffer) => {
      parts.push(d)
      got += d.length
      if (got >= bytes) finish()
    })
    child.stdout.on('end', finish)
    child.stdin.on('error', () => {}) // it may stop reading once it has enough, or at the cut-off frame
    child.stdin.end(compressed)
  })
}

export function zstdArgs(level: number | undefined, threads: number): string[] {
  return ['-q', '-c', `-${defaultLevel('zstd', level)}`, `-T${threads}`]
}
