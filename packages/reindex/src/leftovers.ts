import { Buffer } from 'node:buffer'

/**
 * Leftovers of REINDEX CONCURRENTLY. A failed rebuild leaves the new index `<name>_ccnew`
 * INVALID; a rebuild whose final drop failed leaves the old one as `<name>_ccold`. When the
 * name is taken a number follows (`_ccnew1`), and a long name is truncated to fit 63 bytes
 * before the suffix. Both are dead weight (a `_ccnew` is still updated on every write), and
 * both are safe to drop once no index build is running on their table.
 */
const LEFTOVER = /^(.*)_cc(new|old)(\d*)$/
const NAME_LIMIT = 63

/** The index a leftover belongs to, among `candidates` (indexes of the same table), if any. */
export function leftoverOf(
  name: string,
  candidates: readonly string[],
): { index: string; kind: 'ccnew' | 'ccold' } | undefined {
  const match = LEFTOVER.exec(name)
  if (!match?.[1]) return undefined
  const base = match[1]
  const kind = match[2] === 'new' ? 'ccnew' : 'ccold'
  const exact = candidates.find((c) => c === base)
  if (exact) return { index: exact, kind }
  // truncated: the whole name used (nearly) all 63 bytes and the base is a prefix of the index name
  if (Buffer.byteLength(name) < NAME_LIMIT - 3) return undefined
  const truncated = candidates.filter((c) => c !== name && c.startsWith(base))
  return truncated.length === 1 ? { index: truncated[0]!, kind } : undefined
}

export interface InvalidIndex {
  schema: string
  table: string
  index: string
  bytes: number
  /** The valid index this is a leftover of, when it is one. */
  leftoverOf: string | null
  /** pid of an index build running on the table right now. */
  buildPid: number | null
  /** What `reindex:apply` does with it. */
  action: 'drop' | 'keep'
  reason: string
}

/** A row of LIST_INVALID_INDEXES. */
export type InvalidIndexRow = {
  schema: string
  table_name: string
  index_name: string
  bytes: string | number
  build_pid: number | null
  valid_siblings: string[]
}

/** Sorts the invalid indexes of the database into leftovers dbops may drop and the rest, which it only reports. */
export function classifyInvalid(rows: InvalidIndexRow[]): InvalidIndex[] {
  return rows.map((row) => {
    const owner = leftoverOf(row.index_name, row.valid_siblings)
    const base = {
      schema: row.schema,
      table: row.table_name,
      index: row.index_name,
      bytes: Number(row.bytes),
      leftoverOf: owner?.index ?? null,
      buildPid: row.build_pid,
    }
    if (row.build_pid)
      return {
        ...base,
        action: 'keep',
        reason: `an index build is running on ${row.schema}.${row.table_name} (pid ${row.build_pid}): it may be that build's`,
      }
    if (owner)
      return {
        ...base,
        action: 'drop',
        reason: `leftover of a failed concurrent rebuild of ${owner.index} (${owner.kind === 'ccnew' ? 'the unfinished new index' : 'the replaced old index'})`,
      }
    return {
      ...base,
      action: 'keep',
      reason:
        'invalid index that is not a leftover of a rebuild (a failed CREATE INDEX CONCURRENTLY?): not dropped; drop it or REINDEX it yourself',
    }
  })
}
