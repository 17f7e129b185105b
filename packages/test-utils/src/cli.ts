import { spawn } from 'node:child_process'
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

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/root',
      NO_COLOR: '1',
      CI: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }
    for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v
    const child = spawn(process.execPath, [DBOPS_BIN, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env,
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
