import { PassThrough } from 'node:stream'
import {
  type BackupManifest,
  type BackupObject,
  type Context,
  formatBytes,
  messageOf,
  type PutResult,
  type Storage,
} from 'dbops/plugin'
import { writeManifest } from './backup-sets.ts'
import type { Branch } from './fan-out.ts'
import { quiet } from './quiet-stream.ts'

/** One object on its way into one destination: the fan-out writes `stream`, the put reads it. */
export interface Upload extends Branch {
  /** The put's outcome; rejected when the destination failed (`failed` is then set too). */
  result: Promise<PutResult>
}

/**
 * One storage a backup set is written to, with what happened to it in this run: the objects
 * it stored, why it failed (after which it takes nothing more), and the clean-up of a set
 * that did not complete there.
 */
export class Destination {
  readonly storage: Storage
  /** Why this destination is out of the backup: its first failure. */
  failure: Error | undefined
  /** Whether the set's manifest was written here: the set exists here. */
  complete = false
  /** Keys this run's puts wrote: removed again unless the set completes. */
  readonly #stored: string[] = []

  constructor(storage: Storage) {
    this.storage = storage
  }

  get name(): string {
    return this.storage.name
  }

  get live(): boolean {
    return this.failure === undefined
  }

  fail(error: Error): void {
    this.failure ??= error
  }

  /** Starts the put of one object; its body is the returned upload's stream. */
  upload(key: string, role: BackupObject['role'], signal: AbortSignal): Upload {
    const stream = quiet(new PassThrough({ highWaterMark: 1 << 20 }))
    const branch: Branch = { name: this.name, stream }
    const drop = (error: Error): never => {
      branch.failed = error
      stream.destroy() // the fan-out drops it at once and carries on with the others
      throw error
    }
    const put = this.storage.put(key, stream, { signal, metadata: { 'dbops-role': role } })
    const result = put.then((stored) => {
      this.#stored.push(key)
      // A put that returns before reading everything would hold the other destinations back.
      if (stream.readableEnded) return stored
      return drop(
        new Error(`its storage returned before reading the whole object (${stored.size} bytes)`),
      )
    }, drop)
    result.catch(() => {})
    return Object.assign(branch, { result })
  }

  /** A put's outcome against what was sent: a failure or other bytes put this destination out. */
  accept(outcome: PromiseSettledResult<PutResult>, sent: { size: number; sha256: string }): void {
    if (outcome.status === 'rejected') {
      this.fail(outcome.reason as Error)
      return
    }
    const { size, sha256 } = outcome.value
    if (sha256 !== sent.sha256 || size !== sent.size)
      this.fail(
        new Error(
          `stored ${size} bytes with sha256 ${sha256}, sent ${sent.size} bytes with ${sent.sha256}`,
        ),
      )
  }

  /** Every object is here, whole, before the manifest makes the set exist. */
  async confirm(prefix: string, objects: BackupObject[]): Promise<void> {
    for (const object of objects) {
      if (!this.live) return
      const head = await this.storage.head(prefix + object.name).catch((error: Error) => error)
      const problem =
        head instanceof Error
          ? `unreadable (${head.message})`
          : !head
            ? 'missing'
            : head.size !== object.size
              ? `${head.size} bytes, not ${object.size}`
              : undefined
      if (problem) this.fail(new Error(`${object.name} is ${problem} after the upload`))
    }
  }

  /** Writes the manifest last: from then on the set exists here. */
  async finish(prefix: string, manifest: BackupManifest, signal: AbortSignal): Promise<void> {
    if (!this.live) return
    try {
      await writeManifest(this.storage, prefix, manifest, signal)
      this.complete = true
    } catch (error) {
      this.fail(error as Error)
    }
  }

  /** No manifest, no set: what this run stored here is removed when the set did not complete. */
  async removePartial(): Promise<void> {
    if (this.complete) return
    for (const key of this.#stored) await this.storage.delete(key).catch(() => {})
  }

  /**
   * What interrupted backups of this database left behind (a `kill -9` mid-dump leaves a
   * hidden temp file): removed before this one starts. A run still writing keeps its files.
   */
  async removeStalePartials(ctx: Context, database: string): Promise<void> {
    if (!this.storage.removeStalePartials) return
    const removed = await this.storage.removeStalePartials(`${database}/`).catch((error: Error) => {
      ctx.logger.warn(
        `${this.name}: the leftovers of interrupted backups could not be removed: ${messageOf(error)}`,
      )
      return []
    })
    for (const r of removed)
      ctx.logger.warn(
        `${this.name}: removed ${r.key} (${formatBytes(r.size)}, ${r.modifiedAt.toISOString()}), left by an interrupted backup`,
      )
  }
}
