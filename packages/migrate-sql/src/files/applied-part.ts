import { createHash } from 'node:crypto'
import { sqlTokens } from '../sql/tokens.ts'
import type { MigrationFile } from './migration-file.ts'

/**
 * The checksum of the part of a no-transaction file that has run: the up section from its
 * start to the end of statement N, as a token stream (comments and layout do not count).
 * A ledger row records it while the file is part-way, so that the next run can tell an edit
 * to a statement that has not run yet (fixing the one that failed: accepted) from an edit to
 * one that has (drift).
 *
 * `upTo(n)` is asked with growing n as statements complete; each call costs only the
 * statements since the last one. The text is hashed statement span by statement span, so
 * the value depends only on the file and n.
 */
export function appliedPartChecksum(
  file: Pick<MigrationFile, 'text' | 'up'>,
  statements: ReadonlyArray<{ fileEnd: number }>,
): { upTo(applied: number): string } {
  const hash = createHash('sha256')
  let at = file.up.offset
  let done = 0
  return {
    upTo(applied) {
      if (applied < done) throw new Error(`appliedPartChecksum: asked for ${applied} after ${done}`)
      for (; done < applied; done++) {
        const end = statements[done]!.fileEnd
        for (const token of sqlTokens(file.text.slice(at, end))) hash.update(`${token}\u0000`)
        at = end
      }
      return hash.copy().update(`\u0001no-transaction:${applied}`).digest('hex')
    },
  }
}
