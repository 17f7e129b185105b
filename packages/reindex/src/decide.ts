import type { BloatFigures } from 'dbops/plugin'
import { estimateIndex, formatBytes, type IndexEstimate, type IndexRow } from 'dbops/plugin'
import type { ReindexOptions } from './options.ts'

export interface IndexDecision {
  schema: string
  table: string
  index: string
  method: string
  sizeBytes: number
  tableBytes: number
  /** Bytes a rebuild is expected to give back; null when not estimated. */
  bloatBytes: number | null
  bloatPercent: number | null
  expectedBytes: number | null
  /** Where the figures come from. */
  source: 'estimate' | 'pgstatindex' | 'none'
  /** The estimate counts on btree deduplication (PG13+) packing equal keys when the index is rebuilt. */
  deduplicated: boolean
  action: 'rebuild' | 'skip'
  reason: string
  tablespaceLocation: string
}

/** pgstatindex's figures for an index, or why it could not measure. */
export type Measure = (row: IndexRow) => Promise<BloatFigures | string>

export interface DecideContext {
  server: { blockSize: number; versionNum: number }
  options: ReindexOptions
  /** Set when pgstattuple is installed: measures an index (reads all of it). */
  measure?: Measure
  /** Why ANALYZE of the table failed, when it did. */
  analyzeFailed?: string
}

/** `audit_*`, `public.events`, `archive.*`: matched against index and table, with or without schema. */
export function excludedBy(
  patterns: string[],
  schema: string,
  table: string,
  index: string,
): string | undefined {
  return patterns.find((pattern) => {
    const re = new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    )
    return [index, table, `${schema}.${index}`, `${schema}.${table}`].some((name) => re.test(name))
  })
}

export function passes(f: BloatFigures, options: ReindexOptions): boolean {
  return f.bloatPercent >= options.minBloatPercent && f.bloatBytes >= options.minBloatSize
}

/** Reasons that need no estimate. */
export function staticSkip(row: IndexRow, options: ReindexOptions): string | undefined {
  if (row.temporary) return 'index of a temporary table'
  if (row.method !== 'btree') return `${row.method} index: only btree bloat is estimated`
  if (row.exclusion) return 'backs an exclusion constraint, which cannot be rebuilt concurrently'
  const pattern = excludedBy(options.exclude, row.schema, row.table_name, row.index_name)
  if (pattern) return `excluded by the pattern '${pattern}'`
  return undefined
}

/**
 * The estimate is over the thresholds only because the rebuilt index is expected to
 * deduplicate: it rests on n_distinct, which ANALYZE can underestimate, so it is worth a
 * measurement when one is possible.
 */
export function countsOnDedup(e: IndexEstimate, options: ReindexOptions): boolean {
  return e.rowsPerKey !== null && passes(e.figures, options) && !passes(e.withoutDedup, options)
}

/** Whether pgstatindex should measure this index before it is rebuilt. */
function shouldMeasure(e: IndexEstimate, sizeBytes: number, options: ReindexOptions): boolean {
  if (options.confirmWithPgstattuple === 'deduplicated')
    return e.trusted !== null && countsOnDedup(e, options)
  return (
    options.confirmWithPgstattuple &&
    (passes(e.figures, options) || (e.distrust !== null && sizeBytes >= options.minBloatSize))
  )
}

/** Rebuild or skip one valid index, with the sentence that says why. */
export async function decide(row: IndexRow, dc: DecideContext): Promise<IndexDecision> {
  const { options } = dc
  const sizeBytes = Number(row.relpages) * dc.server.blockSize
  const tableBytes = Number(row.table_pages) * dc.server.blockSize
  const base = {
    schema: row.schema,
    table: row.table_name,
    index: row.index_name,
    method: row.method,
    sizeBytes,
    tableBytes,
    tablespaceLocation: row.tablespace_location,
    deduplicated: false,
  }
  const skip = (
    reason: string,
    f?: BloatFigures,
    source: IndexDecision['source'] = f ? 'estimate' : 'none',
  ): IndexDecision => ({
    ...base,
    bloatBytes: f?.bloatBytes ?? null,
    bloatPercent: f ? round(f.bloatPercent) : null,
    expectedBytes: f?.expectedBytes ?? null,
    source,
    action: 'skip',
    reason,
  })
  const fixed = staticSkip(row, options)
  if (fixed) return skip(fixed)
  if (tableBytes < options.minTableSize)
    return skip(
      `table is ${formatBytes(tableBytes)}, under minTableSize (${formatBytes(options.minTableSize)})`,
    )
  if (options.maxIndexSize !== undefined && sizeBytes > options.maxIndexSize)
    return skip(
      `index is ${formatBytes(sizeBytes)}, over maxIndexSize (${formatBytes(options.maxIndexSize)})`,
    )
  const e = estimateIndex(row, dc.server)
  base.deduplicated = e.rowsPerKey !== null
  const dedupNote =
    e.rowsPerKey !== null
      ? `; the rebuilt index deduplicates ~${Math.round(e.rowsPerKey)} rows per key`
      : ''
  let figures: BloatFigures | undefined = e.trusted ?? undefined
  let source: IndexDecision['source'] = 'estimate'
  if (dc.measure && shouldMeasure(e, sizeBytes, options)) {
    const measured = await dc.measure(row)
    if (typeof measured === 'string') return skip(`${measured}; not rebuilt unconfirmed`, figures)
    if (figures && !passes(measured, options)) {
      const dead =
        row.dead_tuples > 0.1 * Math.max(row.table_tuples, 1)
          ? '; the table has many dead rows not yet vacuumed, which the measurement counts as live (VACUUM it, then plan again)'
          : ''
      return skip(
        `estimated bloat ${pct(figures)} (${formatBytes(figures.bloatBytes)}) not confirmed: pgstatindex measured ${pct(measured)} (${formatBytes(measured.bloatBytes)})${dead}${dedupNote}`,
        measured,
        'pgstatindex',
      )
    }
    figures = measured
    source = 'pgstatindex'
  }
  if (!figures)
    return skip(
      `estimate not trusted: ${e.distrust!.reason}${dc.analyzeFailed ? ` (ANALYZE failed: ${dc.analyzeFailed})` : ''}`,
    )
  const over = `${options.minBloatPercent}% and ${formatBytes(options.minBloatSize)}`
  if (figures.bloatPercent < options.minBloatPercent)
    return skip(
      `bloat ${pct(figures)} (${formatBytes(figures.bloatBytes)}) is under minBloatPercent (${options.minBloatPercent}%)${dedupNote}`,
      figures,
      source,
    )
  if (figures.bloatBytes < options.minBloatSize)
    return skip(
      `bloat ${formatBytes(figures.bloatBytes)} (${pct(figures)}) is under minBloatSize (${formatBytes(options.minBloatSize)})${dedupNote}`,
      figures,
      source,
    )
  return {
    ...base,
    bloatBytes: figures.bloatBytes,
    bloatPercent: round(figures.bloatPercent),
    expectedBytes: figures.expectedBytes,
    source,
    action: 'rebuild',
    reason: `${source === 'pgstatindex' ? 'measured' : 'estimated'} bloat ${pct(figures)} (${formatBytes(figures.bloatBytes)}) is over ${over}${dedupNote}`,
  }
}

const round = (n: number) => Math.round(n * 10) / 10
const pct = (f: BloatFigures) => `${round(f.bloatPercent)}%`
