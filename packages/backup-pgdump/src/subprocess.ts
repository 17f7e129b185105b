import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Duplex, PassThrough, Writable, type Readable } from 'node:stream'
import { DbopsError, scrub } from 'dbops/plugin'

export interface ChildOptions {
  /** Added to a minimal environment (PATH, HOME, LANG): libpq variables go here, never argv. */
  env?: Record<string, string>
  signal?: AbortSignal
  /** Secrets to scrub from the child's stderr before it reaches an error message. */
  secrets?: string[]
  /** Turns a failed exit into a clearer error. */
  explain?: (
    stderr: string,
    code: number | null,
    signal: NodeJS.Signals | null,
  ) => Error | undefined
}

export interface Child {
  process: ChildProcess
  /** Resolves when the child exited 0; rejects with its stderr otherwise. */
  done: Promise<void>
  stderr(): string
}

function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = [
    'PATH',
    'HOME',
    'LANG',
    'LC_ALL',
    'TZ',
    'TMPDIR',
    'PGSSLROOTCERT',
    'PGSSLCERT',
    'PGSSLKEY',
    'PGSERVICEFILE',
    'PGPASSFILE',
  ]
  const env: NodeJS.ProcessEnv = {}
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k]
  return { ...env, ...extra }
}

/** Spawns a tool; its failure (non-zero exit, signal, missing binary) rejects `done` with a sentence. */
export function spawnChild(
  file: string,
  args: string[],
  stdio: ['pipe' | 'ignore' | Readable, 'pipe' | 'ignore'],
  options: ChildOptions = {},
): Child {
  const name = path.basename(file)
  const child = spawn(file, args, {
    env: baseEnv(options.env),
    stdio: [stdio[0], stdio[1], 'pipe'],
  })
  // Stdin handed over from another process's stdout: our copy of the pipe must close, or
  // the writer would never see the reader go away.
  if (typeof stdio[0] === 'object') stdio[0].destroy()
  let stderr = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (d: string) => {
    if (stderr.length < 64_000) stderr += d
  })
  const kill = () => child.kill('SIGTERM')
  options.signal?.addEventListener('abort', kill, { once: true })
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', kill)
      reject(
        error.code === 'ENOENT'
          ? new DbopsError('TOOL_NOT_FOUND', `${name} was not found (${file})`, {
              hint: 'Install it or set binDir / pgDumpPath in the pgdump options.',
            })
          : error,
      )
    })
    child.once('close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill)
      if (code === 0) return resolve()
      if (options.signal?.aborted) return reject(options.signal.reason)
      const text = scrub(stderr.trim(), options.secrets ?? [])
      const explained = options.explain?.(text, code, signal)
      if (explained) return reject(explained)
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      reject(new DbopsError('TOOL_FAILED', `${name} ${how}${text ? `: ${lastLines(text)}` : ''}`))
    })
  })
  done.catch(() => {}) // observed by callers; never an unhandled rejection
  return { process: child, done, stderr: () => stderr }
}

function lastLines(text: string): string {
  return text.split('\n').slice(-4).join(' / ')
}

/**
 * A child's stdout as a stream that ends only once the child exited 0, and errors
 * otherwise: a pipeline reading it cannot complete when the tool failed.
 */
export function childOutput(child: Child): Readable {
  const out = quiet(new PassThrough({ highWaterMark: 1 << 20 }))
  child.process.stdout!.pipe(out, { end: false })
  let stdoutEnded = false
  const stdoutDone = new Promise<void>((resolve) =>
    child.process.stdout!.once('end', () => ((stdoutEnded = true), resolve())),
  )
  child.done.then(
    async () => {
      if (!stdoutEnded) await stdoutDone
      out.end()
    },
    (error) => out.destroy(error),
  )
  out.on('close', () => {
    if (child.process.exitCode === null && child.process.signalCode === null)
      child.process.kill('SIGTERM')
  })
  return out
}

/** A filter process (zstd, age) as a Duplex: write into stdin, read stdout; fails with the child. */
export function childFilter(file: string, args: string[], options: ChildOptions = {}): Duplex {
  const child = spawnChild(file, args, ['pipe', 'pipe'], options)
  const duplex = Duplex.from({ writable: childInput(child), readable: childOutput(child) })
  duplex.on('close', () => {
    if (child.process.exitCode === null && child.process.signalCode === null)
      child.process.kill('SIGTERM')
  })
  return duplex
}

/**
 * A child's stdin as a Writable whose failure is the child's own (what it said on stderr),
 * not the EPIPE of writing to a process that already exited.
 */
export function childInput(child: Child): Writable {
  const stdin = child.process.stdin!
  stdin.on('error', () => {})
  const gone = () => stdin.destroyed || stdin.writableEnded
  // A child that exited 0 without reading everything (tar stops at its end-of-archive
  // marker) is fine: the rest is still read, so checksums and decryption cover every byte.
  const failWithChild = (cb: (e?: Error | null) => void) => child.done.then(() => cb(), cb)
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, cb) {
      if (gone()) return failWithChild(cb)
      if (stdin.write(chunk)) return cb()
      const go = () => {
        stdin.off('drain', go)
        stdin.off('close', go)
        if (stdin.destroyed) failWithChild(cb)
        else cb()
      }
      stdin.on('drain', go)
      stdin.on('close', go)
    },
    final(cb) {
      if (gone()) return failWithChild(cb)
      stdin.end(() => cb())
    },
    destroy(error, cb) {
      if (error && child.process.exitCode === null && child.process.signalCode === null)
        child.process.kill('SIGTERM')
      cb(error)
    },
  })
}

/**
 * `a | b` with an OS pipe between the processes (the data never passes through Node): the
 * returned stream is b's stdout, and it ends only when every process exited 0.
 */
export function pipeChildren(first: Child, next: (stdin: Readable) => Child): Readable {
  const second = next(first.process.stdout!)
  const out = quiet(new PassThrough({ highWaterMark: 1 << 20 }))
  second.process.stdout!.pipe(out, { end: false })
  const stdoutDone = new Promise<void>((resolve) => second.process.stdout!.once('end', resolve))
  const stopAll = () => {
    for (const c of [first, second])
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGTERM')
  }
  // The writer's failure explains more than the reader's (zstd just sees its input end).
  Promise.all([first.done, second.done]).then(
    async () => {
      await stdoutDone
      out.end()
    },
    async (error) => {
      stopAll()
      const firstError = await first.done.then(
        () => undefined,
        (e: unknown) => e,
      )
      out.destroy((firstError ?? error) as Error)
    },
  )
  out.on('close', stopAll)
  return out
}

/**
 * `a | b` as one Child for writing: stdin is a's, `done` settles when both exited (b's
 * failure first: what pg_restore says explains more than zstd's broken pipe).
 */
export function chainChildren(first: Child, second: Child): Child {
  const done = Promise.allSettled([first.done, second.done]).then(([a, b]) => {
    const corrupt =
      a.status === 'rejected' && (a.reason as { code?: string })?.code === 'BACKUP_CORRUPT'
    if (corrupt) throw a.reason
    if (b.status === 'rejected') throw b.reason
    if (a.status === 'rejected') throw a.reason
  })
  done.catch(() => {})
  const proxy = Object.create(first.process) as ChildProcess
  Object.defineProperty(proxy, 'kill', {
    value: (signal?: NodeJS.Signals) => (first.process.kill(signal), second.process.kill(signal)),
  })
  return { process: proxy, done, stderr: () => second.stderr() + first.stderr() }
}

/**
 * A stream that may fail before anything consumes it (an abort while the pipeline is still
 * being assembled): the error is kept for the pipeline, never thrown as an unhandled event.
 */
export function quiet<S extends NodeJS.EventEmitter>(stream: S): S {
  stream.on('error', () => {})
  return stream
}
