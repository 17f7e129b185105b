/**
 * Btree bloat: how many bytes a rebuild would give back. Two ways to know:
 *
 * - `estimateIndexBloat` (after ioguix/pgsql-bloat-estimation's btree query, made aware of
 *   PostgreSQL 13's deduplication): from the catalog's page and tuple counts and the column
 *   statistics, the pages a freshly built index would need at its fillfactor, against the
 *   pages it has. Cheap, but only as good as the statistics, so it says when it should not be
 *   trusted.
 * - `measuredIndexBloat`: from pgstattuple's pgstatindex, which reads the whole index.
 */

const PAGE_HEADER = 24
const BTREE_OPAQUE = 16
const ITEM_ID = 4
const INDEX_TUPLE_HEADER = 8
const NULL_BITMAP = 4
const MAXALIGN = 8
const HEAP_TID = 6
/** Internal pages of a new btree are filled to 70% (BTREE_NONLEAF_FILLFACTOR). */
const NONLEAF_FILLFACTOR = 70

export interface BloatFigures {
  /** Bytes the index has. */
  sizeBytes: number
  /** Bytes a rebuild would give back. */
  bloatBytes: number
  bloatPercent: number
  /** Bytes the index should have after a rebuild. */
  expectedBytes: number
}

export interface EstimateInput {
  relpages: number
  /** Heap tuples the index points to (pg_class.reltuples of the index). */
  reltuples: number
  blockSize: number
  fillfactor: number
  /** Sum over the index's columns of avg_width × (1 − null_frac). */
  dataWidth: number
  hasNulls: boolean
  /**
   * Distinct keys, when a rebuild of this index deduplicates equal keys (PostgreSQL 13+, a
   * non-unique btree without INCLUDE columns whose operator classes allow it). Equal keys are
   * then stored once, followed by a posting list of 6-byte heap TIDs.
   */
  distinctKeys?: number
}

const align = (n: number) => Math.ceil(n / MAXALIGN) * MAXALIGN

/**
 * A posting list tuple built by CREATE INDEX or REINDEX holds at most this many bytes: 10% of
 * a page, so that a page of them still fills to its fillfactor (nbtsort.c, `maxpostingsize`).
 */
function maxPostingBytes(blockSize: number): number {
  return Math.floor(Math.floor((blockSize * 10) / 100) / MAXALIGN) * MAXALIGN - ITEM_ID
}

/** Leaf bytes (tuples and their line pointers) of `rows` equal keys, deduplicated as nbtsort.c does. */
/** Heap TIDs in a full posting list tuple whose key part is `tupleBytes`. */
function tidsPerPosting(tupleBytes: number, blockSize: number): number {
  return Math.floor(
    (Math.floor(maxPostingBytes(blockSize) / MAXALIGN) * MAXALIGN - tupleBytes) / HEAP_TID,
  )
}

function groupBytes(rows: number, tupleBytes: number, blockSize: number): number {
  if (rows <= 0) return 0
  const plain = tupleBytes + ITEM_ID
  const perPosting = tidsPerPosting(tupleBytes, blockSize)
  if (perPosting < 2) return rows * plain
  const full = Math.floor(rows / perPosting)
  const rest = rows - full * perPosting
  const posting = (tids: number) => align(tupleBytes + HEAP_TID * tids) + ITEM_ID
  return full * posting(perPosting) + (rest === 0 ? 0 : rest === 1 ? plain : posting(rest))
}

/**
 * Bytes the leaf level needs for `rows` rows over `keys` distinct keys, and its largest tuple.
 * The rows are spread evenly over the keys (groups of ⌊k⌋ and ⌈k⌉ rows): as the cost of a
 * group is concave in its size, an even spread needs the most room, so skew can only make the
 * index smaller than this.
 */
function dedupLeaf(
  rows: number,
  keys: number,
  tupleBytes: number,
  blockSize: number,
): { bytes: number; largestTuple: number } {
  const groups = Math.min(Math.max(keys, 1), rows)
  const perKey = rows / groups
  const small = Math.floor(perKey)
  const share = perKey - small // of the groups that have one row more
  const bytes =
    groups *
    ((1 - share) * groupBytes(small, tupleBytes, blockSize) +
      share * groupBytes(small + 1, tupleBytes, blockSize))
  const largestTuple =
    align(
      tupleBytes + HEAP_TID * Math.min(Math.ceil(perKey), tidsPerPosting(tupleBytes, blockSize)),
    ) + ITEM_ID
  return { bytes, largestTuple }
}

function pages(leaves: number, tupleBytes: number, blockSize: number): number {
  const usable = blockSize - PAGE_HEADER - BTREE_OPAQUE
  const perInternal = Math.max(
    2,
    Math.floor((usable * NONLEAF_FILLFACTOR) / 100 / (tupleBytes + ITEM_ID)),
  )
  let internal = 0
  for (let level = leaves; level > 1; level = Math.ceil(level / perInternal))
    internal += Math.ceil(level / perInternal)
  return 1 + Math.max(leaves, 1) + internal // + the metapage
}

function figures(sizeBytes: number, expectedBytes: number): BloatFigures {
  const bloatBytes = Math.max(0, sizeBytes - expectedBytes)
  return {
    sizeBytes,
    bloatBytes,
    bloatPercent: sizeBytes > 0 ? (100 * bloatBytes) / sizeBytes : 0,
    expectedBytes: Math.min(sizeBytes, expectedBytes),
  }
}

/** Index tuple size of one key: header, null bitmap when needed, key data, MAXALIGNed. */
export function tupleBytesOf(input: Pick<EstimateInput, 'dataWidth' | 'hasNulls'>): number {
  return align(INDEX_TUPLE_HEADER + (input.hasNulls ? NULL_BITMAP : 0) + input.dataWidth)
}

export function estimateIndexBloat(input: EstimateInput): BloatFigures {
  const tupleBytes = tupleBytesOf(input)
  const rows = Math.max(0, input.reltuples)
  const usable = input.blockSize - PAGE_HEADER - BTREE_OPAQUE
  const leafRoom = (usable * input.fillfactor) / 100
  let leaves: number
  if (input.distinctKeys === undefined)
    leaves = Math.ceil(rows / Math.max(1, Math.floor(leafRoom / (tupleBytes + ITEM_ID))))
  else {
    // Tuples of up to 10% of a page do not fill it evenly: a page is closed when the next
    // tuple does not fit. Half the largest tuple is counted as lost on each page.
    const leaf = dedupLeaf(rows, input.distinctKeys, tupleBytes, input.blockSize)
    leaves = Math.ceil(leaf.bytes / (leafRoom - leaf.largestTuple / 2))
  }
  return figures(
    input.relpages * input.blockSize,
    pages(leaves, tupleBytes, input.blockSize) * input.blockSize,
  )
}

export type PgstatindexRow = {
  index_size: number
  internal_pages: number
  leaf_pages: number
  empty_pages: number
  deleted_pages: number
  avg_leaf_density: number
}

/**
 * From pgstatindex: the live bytes on leaf pages, repacked at the fillfactor; empty and
 * deleted pages go away. Dead index entries not yet vacuumed count as live here, so on a
 * table with many dead rows the measurement understates what a rebuild gives back.
 */
export function measuredIndexBloat(
  row: PgstatindexRow,
  blockSize: number,
  fillfactor: number,
): BloatFigures {
  const density = Number.isFinite(row.avg_leaf_density) ? row.avg_leaf_density : 0
  const liveBytes = row.leaf_pages * (blockSize - PAGE_HEADER - BTREE_OPAQUE) * (density / 100)
  const leaves = Math.max(
    1,
    Math.ceil(liveBytes / ((blockSize - PAGE_HEADER - BTREE_OPAQUE) * (fillfactor / 100))),
  )
  const internal =
    row.leaf_pages > 0 ? Math.max(0, Math.ceil((row.internal_pages * leaves) / row.leaf_pages)) : 0
  return figures(row.index_size, (1 + leaves + internal) * blockSize)
}

/** Why an estimate should not be trusted: `kind` groups the reasons for a summary. */
export type Distrust = { kind: 'no-statistics' | 'stale' | 'unmeasured'; reason: string }

/** More rows than this changed since the last ANALYZE: 50 + 10% of the table. */
export const STALE_FRACTION = 0.1

export function distrustReason(row: {
  reltuples: number
  missing_stats: boolean
  has_name: boolean
  never_analyzed: boolean
  modified_since_analyze: number
  table_tuples: number
}): Distrust | null {
  if (row.reltuples < 0 || row.never_analyzed)
    return { kind: 'no-statistics', reason: 'the table has never been analyzed' }
  if (row.missing_stats)
    return {
      kind: 'no-statistics',
      reason: 'some index columns have no statistics (pg_stats) visible to this role',
    }
  if (row.has_name)
    return {
      kind: 'unmeasured',
      reason: "the index has a column of type 'name', which statistics do not measure",
    }
  if (row.modified_since_analyze > 50 + STALE_FRACTION * Math.max(0, row.table_tuples))
    return {
      kind: 'stale',
      reason: `statistics are stale (${Math.round(row.modified_since_analyze)} rows modified since the last analyze)`,
    }
  return null
}
