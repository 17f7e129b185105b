import { createHash } from 'node:crypto'
import { cooperate } from '../cooperate.ts'
import { scanTokens } from './tokens.ts'

/**
 * sha256 of the script's token stream (see tokens.ts): comments and whitespace outside
 * literals do not count, every other character does.
 */
export function tokenChecksum(text: string, extra = ''): string {
  const hash = tokenHash()
  hash.scan(text, 0, text.length)
  return hash.digest(extra)
}

/** tokenChecksum, letting the event loop run every megabyte or so and honouring `signal`. */
export async function tokenChecksumCooperatively(
  text: string,
  extra: string,
  signal?: AbortSignal,
): Promise<string> {
  const hash = tokenHash()
  for (let i = 0; i < text.length; ) {
    i = hash.scan(text, i, Math.min(text.length, i + 1024 * 1024))
    await cooperate(signal)
  }
  return hash.digest(extra)
}

/** Hashes each token followed by a NUL, in batches: one hash update per token is most of the time on a large file. */
function tokenHash() {
  const hash = createHash('sha256')
  let batch = ''
  const emit = (token: string) => {
    batch += `${token}\u0000`
    if (batch.length > 65536) {
      hash.update(batch)
      batch = ''
    }
  }
  return {
    scan: (text: string, from: number, until: number) => scanTokens(text, from, until, emit),
    digest(extra: string): string {
      hash.update(batch)
      if (extra) hash.update('\u0001').update(extra)
      return hash.digest('hex')
    },
  }
}
