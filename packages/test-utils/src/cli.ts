import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const DBOPS_BIN = path.join(REPO_ROOT, 'packages/core/dist/bin.js')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
  /** Every command line (argv) the CLI process tree ran, when `traceArgv` was set. */
}

/**
 * Runs the `dbops` CLI as a user would: a separate process, its own cwd and env.
 * `env` is added to a clean environment (PATH, HOME) rather than the test's own, so a test
 * says exactly what the user has set.
 */
export interface RunCliOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  signalAfterMs?: { signal: NodeJS.Signals; ms: number }
  /** Send a signal once the CLI is in a given state (see SignalWhen). */
  signalWhen?: SignalWhen
  input?: string
}

/** The clean environment the CLI runs in (PATH, HOME, no colour, CI), plus `env`. */
function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    CI: '1',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v
  return env
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DBOPS_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: cliEnv(options.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
    const timer = options.signalAfterMs
      ? setTimeout(() => child.kill(options.signalAfterMs!.signal), options.signalAfterMs.ms)
      : undefined
    let closed = false
    if (options.signalWhen)
      void signalOnceTrue(
        options.signalWhen,
        () => closed,
        () => ({ stdout, stderr }),
        (signal) => child.kill(signal),
      )
    child.on('close', (code) => {
      closed = true
      clearTimeout(timer) // a safety-net kill must not keep the suite alive after the run ended
      resolve({ code, stdout, stderr })
    })
  })
}

/** Send `signal` as soon as `when()` holds: a test interrupts at a state, never at a time. */
export interface SignalWhen {
  signal: NodeJS.Signals
  when: (output: { stdout: string; stderr: string }) => boolean | Promise<boolean>
}

async function signalOnceTrue(
  spec: SignalWhen,
  closed: () => boolean,
  output: () => { stdout: string; stderr: string },
  kill: (signal: NodeJS.Signals) => void,
): Promise<void> {
  while (!closed()) {
    if (await spec.when(output())) return void kill(spec.signal)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface SpawnedCli {
  child: ChildProcessWithoutNullStreams
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>
  /** Resolves once stderr matches; rejects when the CLI exits first or `timeoutMs` passes. */
  stderrMatches(re: RegExp, timeoutMs?: number): Promise<void>
}

/**
 * Starts the CLI without waiting, for tests that act while it runs (kill it at a state, start
 * a second one beside it). `prefix` runs it under another program, e.g. `/usr/bin/time -f …`.
 */
export function spawnCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined>; prefix?: string[] },
): SpawnedCli {
  const [program, ...before] = [...(options.prefix ?? []), process.execPath]
  const child = spawn(program!, [...before, DBOPS_BIN, ...args], {
    cwd: options.cwd,
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  child.stdin.end()
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  const stderrMatches = (re: RegExp, timeoutMs = 60_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!re.test(stderr)) return
        cleanup()
        resolve()
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no ${re} on stderr within ${timeoutMs}ms:\n${stderr}`))
      }, timeoutMs)
      const ended = () => {
        cleanup()
        reject(new Error(`the CLI exited before printing ${re}:\n${stdout}${stderr}`))
      }
      const cleanup = () => {
        clearTimeout(timer)
        child.stderr.off('data', check)
        child.off('close', ended)
      }
      child.stderr.on('data', check)
      child.on('close', ended)
      check()
    })
  return { child, done, stderrMatches }
}
