/**
 * Btree bloat: how many bytes a rebuild would give back. Two ways to know:
 *
 * - `estimateIndexBloat` (after ioguix/pgsql-bloat-estimation's btree query): from the
 *   catalog's page and tuple counts and pg_stats' column widths, the pages a freshly built
 *   index would need at its fillfactor, against the pages it has. Cheap, but only as good as
 *   the statistics, so it says when it should not be trusted.
 * - `measuredIndexBloat`: from pgstattuple's pgstatindex, which reads the whole index.
 */

const PAGE_HEADER = 24
const BTREE_OPAQUE = 16
const ITEM_ID = 4
const INDEX_TUPLE_HEADER = 8
const NULL_BITMAP = 4
const MAXALIGN = 8

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
  reltuples: number
  blockSize: number
  fillfactor: number
  /** Sum over the index's columns of avg_width × (1 − null_frac). */
  dataWidth: number
  hasNulls: boolean
}

const align = (n: number) => Math.ceil(n / MAXALIGN) * MAXALIGN

function pagesFor(tuples: number, tupleBytes: number, blockSize: number, fillfactor: number): number {
  const usable = blockSize - PAGE_HEADER - BTREE_OPAQUE
  const perLeaf = Math.max(1, Math.floor((usable * fillfactor) / 100 / (tupleBytes + ITEM_ID)))
  const perInternal = Math.max(2, Math.floor((usable * 0.7) / (tupleBytes + ITEM_ID)))
  const leaves = Math.ceil(tuples / perLeaf)
  let internal = 0
  for (let level = leaves; level > 1; level = Math.ceil(level / perInternal)) internal += Math.ceil(level / perInternal)
  return 1 + Math.max(leaves, 1) + internal // + the metapage
}

function figures(sizeBytes: number, expectedBytes: number): BloatFigures {
  const bloatBytes = Math.max(0, sizeBytes - expectedBytes)
  return { sizeBytes, bloatBytes, bloatPercent: sizeBytes > 0 ? (100 * bloatBytes) / sizeBytes : 0, expectedBytes: Math.min(sizeBytes, expectedBytes) }
}

export function estimateIndexBloat(input: EstimateInput): BloatFigures {
  const tupleBytes = align(INDEX_TUPLE_HEADER + (input.hasNulls ? NULL_BITMAP : 0) + input.dataWidth)
  const expectedPages = pagesFor(Math.max(0, input.reltuples), tupleBytes, input.blockSize, input.fillfactor)
  return figures(input.relpages * input.blockSize, expectedPages * input.blockSize)
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
export function measuredIndexBloat(row: PgstatindexRow, blockSize: number, fillfactor: number): BloatFigures {
  const density = Number.isFinite(row.avg_leaf_density) ? row.avg_leaf_density : 0
  const liveBytes = row.leaf_pages * (blockSize - PAGE_HEADER - BTREE_OPAQUE) * (density / 100)
  const leaves = Math.max(1, Math.ceil(liveBytes / ((blockSize - PAGE_HEADER - BTREE_OPAQUE) * (fillfactor / 100))))
  const internal = row.leaf_pages > 0 ? Math.max(0, Math.ceil((row.internal_pages * leaves) / row.leaf_pages)) : 0
  return figures(row.index_size, (1 + leaves + internal) * blockSize)
}

/** Why an estimate should not be trusted, or null when it may be. */
export function distrustReason(row: { reltuples: number; missing_stats: boolean; has_name: boolean; never_analyzed: boolean; modified_since_analyze: number; table_tuples: number }): string | null {
  if (row.reltuples < 0 || row.never_analyzed) return 'the table has never been analyzed'
  if (row.missing_stats) return 'some index columns have no statistics (pg_stats) visible to this role'
  if (row.has_name) return "the index has a column of type 'name', which statistics do not measure"
  if (row.modified_since_analyze > 50 + 0.1 * Math.max(0, row.table_tuples)) return `statistics are stale (${Math.round(row.modified_since_analyze)} rows modified since the last analyze)`
  return null
}
