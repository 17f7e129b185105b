// `dbops watch` in a child process for the dashboard suites: runs a failing and a succeeding
// schedule once each (every second, stopped after the first of each), so dbops.runs holds both.
import { spawn } from 'node:child_process'
import { DBOPS_BIN } from '@dbops/test-utils'

export interface WatchRun {
  events: Record<string, any>[]
  /** What the watcher's HTTP server answered while it ran, by path. */
  answers: Record<string, { status: number; text: string }>
  code: number | null
}

/** Runs the watcher until every schedule in `schedules` finished a run; fetches `paths` from its port meanwhile. */
export async function watchUntilRuns(
  project: { dir: string; env: Record<string, string> },
  schedules: string[],
  options: { args?: string[]; paths?: string[]; env?: Record<string, string> } = {},
): Promise<WatchRun> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    ...project.env,
    ...options.env,
  }
  const child = spawn(
    process.execPath,
    [DBOPS_BIN, 'watch', '--log-format', 'json', ...(options.args ?? [])],
    { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const events: Record<string, any>[] = []
  let partial = ''
  let stderr = ''
  let notify: () => void = () => {}
  child.stderr!.on('data', (d) => (stderr += d))
  child.stdout!.on('data', (d: Buffer) => {
    partial += d
    const lines = partial.split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      try {
        events.push(JSON.parse(line))
      } catch {}
    }
    notify()
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let done = false
  void exited.then(() => {
    done = true
    notify()
  })
  const waitFor = (test: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `timed out waiting for ${what}:\n${JSON.stringify(events.slice(-20), null, 1)}\n${stderr}`,
            ),
          ),
        60_000,
      )
      const check = () => {
        if (test()) {
          clearTimeout(timer)
          resolve()
          return
        }
        if (done) {
          clearTimeout(timer)
          reject(
            new Error(
              `the watcher exited while waiting for ${what}:\n${JSON.stringify(events.slice(-20), null, 1)}\n${stderr}`,
            ),
          )
          return
        }
        notify = check
      }
      check()
    })
  const answers: WatchRun['answers'] = {}
  try {
    await waitFor(() => events.some((e) => e.event === 'watch.started'), 'the watcher to start')
    await waitFor(
      () =>
        schedules.every((s) => events.some((e) => e.event === 'run.finished' && e.schedule === s)),
      `a finished run of ${schedules.join(', ')}`,
    )
    const port = events.find((e) => e.event === 'watch.started')?.metricsPort
    for (const p of options.paths ?? []) {
      const res = await fetch(`http://127.0.0.1:${port}${p}`)
      answers[p] = { status: res.status, text: await res.text() }
    }
  } finally {
    child.kill('SIGTERM')
  }
  return { events, answers, code: await exited }
}
