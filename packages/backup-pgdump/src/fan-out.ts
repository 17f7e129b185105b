import { type PassThrough, Writable } from 'node:stream'
import { DbopsError } from 'dbops/plugin'

export interface Branch {
  name: string
  stream: PassThrough
  /** Why the destination failed (its put's rejection), once known. */
  failed?: Error
}

/** The fan-out's own error when no destination is left: the caller words it per destination. */
export const ALL_DESTINATIONS_FAILED = 'ALL_DESTINATIONS_FAILED'

/**
 * Writes one stream into several branches (one per destination) with backpressure: the
 * slowest live branch sets the pace. A branch that fails is dropped and the others carry
 * on; when every branch has failed, the fan-out fails and so does the pipeline feeding it.
 *
 * A branch is out as soon as its stream is destroyed, before its put has settled: a storage
 * that fails (a full disk, a server gone) destroys what it reads at once but rejects only
 * after its own clean-up. Waiting for such a branch to drain would wait forever: it already
 * emitted its last 'close'.
 */
export function fanOut(branches: Branch[]): Writable {
  const live = () => branches.filter((b) => !b.failed && !b.stream.destroyed)
  const drained = (b: Branch) =>
    new Promise<void>((resolve) => {
      const finish = () => {
        b.stream.off('drain', finish)
        b.stream.off('close', finish)
        resolve()
      }
      b.stream.on('drain', finish)
      b.stream.on('close', finish)
      if (b.stream.destroyed) finish()
    })
  const allFailed = () =>
    new DbopsError(
      ALL_DESTINATIONS_FAILED,
      `every destination failed: ${branches.map((b) => `${b.name}: ${b.failed?.message ?? 'stopped reading'}`).join('; ')}`,
    )
  return new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _e, done) {
      const targets = live()
      if (targets.length === 0) return done(allFailed())
      const waits = targets.filter((b) => !b.stream.write(chunk)).map(drained)
      if (waits.length === 0) return done()
      void Promise.all(waits).then(() => done(live().length === 0 ? allFailed() : null))
    },
    final(done) {
      const targets = live()
      if (targets.length === 0) return done(allFailed())
      for (const b of targets) b.stream.end()
      done()
    },
    destroy(error, done) {
      if (error) for (const b of branches) if (!b.stream.destroyed) b.stream.destroy(error)
      done(error)
    },
  })
}
