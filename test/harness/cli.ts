import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
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
  /**
   * Sends the signal once `ready()` resolves true (polled every 50 ms while the CLI runs):
   * a test waits for the state it means to interrupt, not for a guess at how long start-up
   * takes on a loaded machine.
   */
  signalWhen?: { signal: NodeJS.Signals; ready: () => Promise<boolean> }
  input?: string
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', CI: '1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }
    for (const [k, v] of Object.entries(options.env ?? {})) if (v !== undefined) env[k] = v
    const child = spawn(process.execPath, [DBOPS_BIN, ...args], { cwd: options.cwd ?? REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    if (options.input !== undefined) child.stdin.end(options.input)
    else child.stdin.end()
    if (options.signalAfterMs) setTimeout(() => child.kill(options.signalAfterMs!.signal), options.signalAfterMs.ms)
    if (options.signalWhen) {
      const { signal, ready } = options.signalWhen
      const poll = async (): Promise<void> => {
        if (child.exitCode !== null || child.signalCode !== null) return
        if (await ready().catch(() => false)) child.kill(signal)
        else setTimeout(poll, 50)
      }
      void poll()
    }
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
