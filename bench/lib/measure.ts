/**
 * What the benches share: a command timed as a whole process (wall time, peak RSS and user +
 * system CPU from GNU time), the median of samples, and milliseconds as people read them.
 */
import { spawn } from 'node:child_process'
import path from 'node:path'

export interface Timed {
  ms: number
  rssKb: number
  /** User + system CPU seconds of the process: steadier than wall time on a busy machine. */
  cpuS: number
}

/** Runs `cmd` under /usr/bin/time with only PATH, HOME and `env`; rejects on a non-zero exit. */
export function timed(
  cmd: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn('/usr/bin/time', ['-f', '%M %U %S', cmd, ...args], {
      cwd: options.cwd,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/root',
        NO_COLOR: '1',
        ...options.env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      if (code !== 0) {
        const command = `${path.basename(cmd)} ${args.join(' ')}`
        return reject(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`))
      }
      const [rss, user, sys] = stderr.trim().split('\n').pop()!.split(' ').map(Number)
      resolve({ ms, rssKb: rss!, cpuS: user! + sys! })
    })
  })
}

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

export const formatMs = (ms: number): string =>
  ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`
