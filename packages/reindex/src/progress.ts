import { sleep } from 'dbops/plugin'
import type { RebuildContext } from './rebuild.ts'
import { PROGRESS } from './sql.ts'

type ProgressRow = {
  phase: string
  blocks_total: string
  blocks_done: string
  tuples_total: string
  tuples_done: string
  lockers_total: string
  lockers_done: string
  current_locker_pid: string
}

/** Shows pg_stat_progress_create_index of the rebuild session until stopped. */
export function pollProgress(rc: RebuildContext, label: string): { stop(): Promise<void> } {
  let running = true
  const controller = new AbortController()
  const loop = (async () => {
    rc.progress(`${label}: starting`)
    while (running) {
      try {
        await sleep(500, controller.signal)
        const { rows } = await rc.db.query<ProgressRow>(PROGRESS, [rc.session.pid])
        if (rows[0] && running) rc.progress(`${label}: ${describeProgress(rows[0])}`)
      } catch {
        // stopped, or a poll failed: progress is best effort
      }
    }
  })()
  return {
    async stop() {
      running = false
      controller.abort()
      await loop
    },
  }
}

function describeProgress(p: ProgressRow): string {
  const n = (v: string) => Number(v)
  const parts = [p.phase]
  if (n(p.blocks_total) > 0)
    parts.push(
      `${Math.floor((100 * n(p.blocks_done)) / n(p.blocks_total))}% of ${n(p.blocks_total)} blocks`,
    )
  else if (n(p.tuples_total) > 0)
    parts.push(
      `${Math.floor((100 * n(p.tuples_done)) / n(p.tuples_total))}% of ${n(p.tuples_total)} tuples`,
    )
  if (n(p.lockers_total) > 0)
    parts.push(
      `waiting for ${n(p.lockers_done)}/${n(p.lockers_total)} transactions${n(p.current_locker_pid) ? ` (now pid ${p.current_locker_pid})` : ''}`,
    )
  return parts.join(', ')
}
