import type { Db } from '../db/db.ts'
import { renewLeases } from './claim.ts'

/**
 * Renews the leases of this watcher's live runs every third of the lease. The timer runs
 * only while there are runs, so an idle watcher has nothing to wake up for.
 */
export class LeaseKeeper {
  private readonly runs = new Map<string, Db>()
  private timer: NodeJS.Timeout | undefined
  private readonly leaseMs: number
  private readonly onResult: (error?: unknown) => void

  constructor(leaseMs: number, onResult: (error?: unknown) => void) {
    this.leaseMs = leaseMs
    this.onResult = onResult
  }

  add(runId: string, db: Db): void {
    this.runs.set(runId, db)
    this.timer ??= setInterval(() => this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)))
  }

  remove(runId: string): void {
    this.runs.delete(runId)
    if (this.runs.size === 0) this.stop()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private renew(): void {
    const byDb = new Map<Db, string[]>()
    for (const [id, db] of this.runs) byDb.set(db, [...(byDb.get(db) ?? []), id])
    for (const [db, ids] of byDb)
      renewLeases(db, ids, this.leaseMs).then(
        () => this.onResult(),
        (error) => this.onResult(error),
      )
  }
}
