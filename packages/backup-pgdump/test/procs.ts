import { readdirSync, readFileSync } from 'node:fs'

/** Running processes named `comm` whose environment contains `envEntry` (root can read any). */
export function findProcesses(comm: string, envEntry: string): number[] {
  const out: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== comm) continue
      if (!readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(envEntry)) continue
      out.push(Number(entry))
    } catch {
      // the process ended while we looked
    }
  }
  return out
}

export async function waitForProcess(
  comm: string,
  envEntry: string,
  timeoutMs = 15_000,
): Promise<number> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const [pid] = findProcesses(comm, envEntry)
    if (pid) return pid
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no ${comm} process with ${envEntry} appeared within ${timeoutMs} ms`)
}

export const cmdline = (pid: number) =>
  readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
export const environ = (pid: number) =>
  readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
