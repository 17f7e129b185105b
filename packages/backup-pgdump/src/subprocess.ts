import path from 'node:path'
import { Duplex, PassThrough, type Readable, Writable } from 'node:stream'
import { finished } from 'node:stream/promises'
import { DbopsError, scrub } from 'dbops/plugin'
import { type ExecaError, execa, type Subprocess } from 'execa'
import { quiet } from './quiet-stream.ts'

/** What a tool inherits of our environment: the locale, the temp dir and libpq's file locations. */
const KEPT_ENV = [
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

/** How long a tool told to stop (SIGTERM: Ctrl-C, --timeout, a failed pipeline) has before SIGKILL. */
const STOP_GRACE_MS = 5_000

export interface ToolOptions {
  /** A Readable here must be another tool's stdout: the two are joined by an OS pipe. */
  stdin?: 'pipe' | 'ignore' | Readable
  stdout?: 'pipe' | 'ignore'
  /** Collect stdout as text: `done` resolves with it. */
  buffer?: boolean
  /** Added to a minimal environment (KEPT_ENV): libpq variables go here, never on argv. */
  env?: Record<string, string>
  signal?: AbortSignal
  /** Secrets to scrub from the tool's stderr before it reaches an error message. */
  secrets?: string[]
  /** Turns a failed exit into a clearer error; `how` is "exited with code 1" or "was killed by SIGKILL". */
  explain?: (stderr: string, how: string) => Error | undefined
}

export interface Tool {
  subprocess: Subprocess
  /** Resolves (with stdout when buffered) once the tool exited 0; rejects with a sentence otherwise. */
  done: Promise<string>
  /** SIGTERM, then SIGKILL after STOP_GRACE_MS, unless it already exited. */
  stop(): void
}

/** True when `command --version` runs and exits 0 within 5 s. */
export const toolAnswers = (command: string): Promise<boolean> =>
  execa(command, ['--version'], { timeout: 5000, reject: false }).then((r) => !r.failed)

/** Starts a tool through execa; its failure (exit code, signal, missing binary) rejects `done`. */
export function runTool(file: string, args: string[], options: ToolOptions = {}): Tool {
  const kept = Object.fromEntries(
    KEPT_ENV.flatMap((k) => (k in process.env ? [[k, process.env[k]]] : [])),
  )
  const subprocess = execa(file, args, {
    env: { ...kept, ...options.env },
    extendEnv: false,
    stdin: options.stdin ?? 'ignore',
    stdout: options.stdout ?? (options.buffer ? 'pipe' : 'ignore'),
    stderr: 'pipe',
    buffer: { stdout: options.buffer ?? false, stderr: true },
    cancelSignal: options.signal,
    forceKillAfterDelay: STOP_GRACE_MS,
  })
  // Stdin handed over from another tool's stdout: our copy of the pipe must close, or the
  // writer would never see the reader go away.
  if (typeof options.stdin === 'object') options.stdin.destroy()
  const done = subprocess.then(
    (result) => (typeof result.stdout === 'string' ? result.stdout : ''),
    (error: ExecaError) => {
      throw failureOf(file, error, options)
    },
  )
  done.catch(() => {}) // observed by callers; never an unhandled rejection
  const stop = () => {
    if (subprocess.exitCode === null && subprocess.signalCode === null) subprocess.kill()
  }
  return { subprocess, done, stop }
}

function failureOf(file: string, error: ExecaError, options: ToolOptions): Error {
  const name = path.basename(file)
  if (error.code === 'ENOENT' && error.exitCode === undefined)
    return new DbopsError('TOOL_NOT_FOUND', `${name} was not found (${file})`, {
      hint: 'Install it or set binDir / pgDumpPath in the pgdump options.',
    })
  if (options.signal?.aborted) return options.signal.reason as Error
  const how = error.signal
    ? `was killed by ${error.signal}`
    : error.exitCode !== undefined
      ? `exited with code ${error.exitCode}`
      : `failed (${error.originalMessage ?? error.shortMessage})`
  const text = scrub(String(error.stderr ?? '').trim(), options.secrets ?? [])
  const explained = options.explain?.(text, how)
  if (explained) return explained
  return new DbopsError('TOOL_FAILED', `${name} ${how}${text ? `: ${lastLines(text)}` : ''}`)
}

function lastLines(text: string): string {
  return text.split('\n').slice(-4).join(' / ')
}

/**
 * A tool's stdout as a stream that ends only once the tool exited 0, and errors with its
 * failure otherwise: a pipeline reading it cannot complete when the tool failed.
 */
export function toolOutput(tool: Tool): Readable {
  const stdout = tool.subprocess.stdout as Readable
  const out = quiet(new PassThrough({ highWaterMark: 1 << 20 }))
  stdout.pipe(out, { end: false })
  const read = finished(stdout).catch(() => {})
  tool.done.then(
    async () => {
      await read
      out.end()
    },
    (error: Error) => out.destroy(error),
  )
  out.on('close', tool.stop)
  return out
}

/**
 * A tool's stdin as a Writable whose failure is the tool's own (what it said on stderr), not
 * the EPIPE of writing to a process that already exited.
 */
export function toolInput(tool: Tool): Writable {
  const stdin = tool.subprocess.stdin as Writable
  stdin.on('error', () => {})
  const gone = () => stdin.destroyed || stdin.writableEnded
  // A tool that exited 0 without reading everything (tar stops at its end-of-archive marker,
  // pg_restore --list after the table of contents) is fine: the rest is still read, so
  // checksums and decryption cover every byte.
  const settle = (done: (error?: Error | null) => void) =>
    tool.done.then(
      () => done(),
      (error: Error) => done(error),
    )
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, done) {
      if (gone()) return void settle(done)
      if (stdin.write(chunk)) return done()
      const resume = () => {
        stdin.off('drain', resume)
        stdin.off('close', resume)
        if (stdin.destroyed) void settle(done)
        else done()
      }
      stdin.on('drain', resume)
      stdin.on('close', resume)
    },
    final(done) {
      if (gone()) return void settle(done)
      stdin.end(() => done())
    },
    destroy(error, done) {
      if (error) tool.stop()
      done(error)
    },
  })
}

/** A filter (zstd, age) as a Duplex: write into its stdin, read its stdout; fails with the tool. */
export function toolFilter(file: string, args: string[], options: ToolOptions = {}): Duplex {
  const tool = runTool(file, args, { ...options, stdin: 'pipe', stdout: 'pipe' })
  const duplex = Duplex.from({ writable: toolInput(tool), readable: toolOutput(tool) })
  duplex.on('close', tool.stop)
  return duplex
}

/**
 * `a | b` with an OS pipe between the tools (the data never passes through Node): the
 * returned stream is b's stdout, and it ends only when both exited 0.
 */
export function pipeTools(first: Tool, next: (stdin: Readable) => Tool): Readable {
  const second = next(first.subprocess.stdout as Readable)
  return toolOutput({
    subprocess: second.subprocess,
    done: bothDone(first, second, 'first'),
    stop: stopBoth(first, second),
  })
}

/**
 * `a | b` as one Tool to write into: stdin is a's; `done` settles when both exited. b's
 * failure explains more (what pg_restore said, not zstd's broken pipe), except a corrupt
 * input, which is the reason b failed.
 */
export function chainTools(first: Tool, second: Tool): Tool {
  return {
    subprocess: first.subprocess,
    done: bothDone(first, second, 'second'),
    stop: stopBoth(first, second),
  }
}

/**
 * Both tools' outcome, once both exited. `prefer` says whose failure wins when both failed:
 * the writer's in a dump (zstd only sees its input end), the reader's in a restore.
 */
function bothDone(first: Tool, second: Tool, prefer: 'first' | 'second'): Promise<string> {
  // One failing stops the other: a pg_dump waiting for a lock would never see zstd go away.
  const stop = stopBoth(first, second)
  first.done.catch(stop)
  second.done.catch(stop)
  const done = Promise.allSettled([first.done, second.done]).then(([a, b]) => {
    const corrupt =
      a.status === 'rejected' && (a.reason as { code?: string })?.code === 'BACKUP_CORRUPT'
    const order = prefer === 'first' || corrupt ? [a, b] : [b, a]
    for (const outcome of order) if (outcome.status === 'rejected') throw outcome.reason
    return b.status === 'fulfilled' ? b.value : ''
  })
  done.catch(() => {})
  return done
}

const stopBoth = (first: Tool, second: Tool) => () => {
  first.stop()
  second.stop()
}
