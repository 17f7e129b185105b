import { createHash } from 'node:crypto'
import { DbopsError } from 'dbops/plugin'
import { tokenChecksum, tokenChecksumCooperatively } from '../sql/token-checksum.ts'
import type { EncodingProblem } from './decode.ts'

export type MigrationKind = 'versioned' | 'repeatable'

/** One migration as found on disk: its identity, its sections and directives. Nothing parsed yet. */
export interface MigrationFile {
  kind: MigrationKind
  /** Digits of a versioned file (`20250101120000`, `0003`), or `R__<name>` for a repeatable one. */
  version: string
  /** The version as a number (-1 when it is not digits: a Prisma folder named without a timestamp). */
  order: bigint
  /** Position of a versioned file in run order (dbops: by version; Prisma: by folder name). */
  rank: number
  /** Descriptive name: the part after the version. */
  name: string
  /** Name recorded in the ledger: the file name without `.sql`, or Prisma's directory name. */
  ledgerName: string
  /** Path shown to users, relative to the config directory. */
  display: string
  path: string
  /** `<ts>_<name>/migration.sql` (Prisma's layout). */
  prismaLayout: boolean
  text: string
  up: Section
  down: Section | undefined
  noTransaction: boolean
  /** sha256 of the raw bytes (Prisma's checksum; the fast path of drift checks). */
  contentSha256: string
  /** The bytes are not valid in the file's encoding: `text` must not run (see assertDecoded). */
  encodingProblem?: EncodingProblem
}

export interface Section {
  text: string
  /** Character offset of the section in the file. */
  offset: number
}

const UP = /^[ \t]*--[ \t]*dbops:up[ \t]*$/im
const DOWN = /^[ \t]*--[ \t]*dbops:down[ \t]*$/im
const NO_TRANSACTION = /^[ \t]*--[ \t]*dbops:no-transaction\b/im

export function readSections(text: string): { up: Section; down: Section | undefined } {
  const up = UP.exec(text)
  const down = DOWN.exec(text)
  const upStart = up ? up.index + up[0].length : 0
  if (!down) return { up: { text: text.slice(upStart), offset: upStart }, down: undefined }
  if (down.index < upStart) {
    // down section first, then up
    return {
      up: { text: text.slice(upStart), offset: upStart },
      down: {
        text: text.slice(down.index + down[0].length, up ? up.index : text.length),
        offset: down.index + down[0].length,
      },
    }
  }
  return {
    up: { text: text.slice(upStart, down.index), offset: upStart },
    down: { text: text.slice(down.index + down[0].length), offset: down.index + down[0].length },
  }
}

export function hasNoTransactionDirective(text: string): boolean {
  return NO_TRANSACTION.test(text)
}

/**
 * The ledger checksum of a dbops file: the up section's token stream plus its transaction
 * mode. Comments, blank lines and re-indentation do not change it; editing the down section
 * does not either, since it is not what was applied.
 */
export function migrationChecksum(file: Pick<MigrationFile, 'up' | 'noTransaction'>): string {
  let sum = checksums.get(file)
  if (sum === undefined) {
    sum = tokenChecksum(file.up.text, file.noTransaction ? 'no-transaction' : '')
    checksums.set(file, sum)
  }
  return sum
}
const checksums = new WeakMap<object, string>()

/** migrationChecksum computed ahead, letting the event loop run (a 20 MB file is a second of hashing). */
export async function precomputeChecksum(
  file: Pick<MigrationFile, 'up' | 'noTransaction'>,
  signal?: AbortSignal,
): Promise<void> {
  if (!checksums.has(file))
    checksums.set(
      file,
      await tokenChecksumCooperatively(
        file.up.text,
        file.noTransaction ? 'no-transaction' : '',
        signal,
      ),
    )
}

/** Throws for a file whose bytes are not valid text (invalid UTF-8, or not the encoding it declares): it must not run. */
export function assertDecoded(file: Pick<MigrationFile, 'display' | 'encodingProblem'>): void {
  const p = file.encodingProblem
  if (!p) return
  throw new DbopsError(
    'MIGRATION_ENCODING',
    `${file.display}:${p.line}:${p.column}: ${p.message}; nothing was applied`,
    {
      hint: 'Save the file as UTF-8, or declare its encoding on a line of its own, e.g. `-- dbops:encoding latin1` (any encoding that writes ASCII as ASCII).',
    },
  )
}

export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex')
}
