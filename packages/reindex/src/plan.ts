import type { Db, Logger } from 'dbops/plugin'
import { distrustReason, estimateIndexBloat, measuredIndexBloat, type BloatFigures, type PgstatindexRow } from './estimate.ts'
import { classifyInvalid, type InvalidIndex } from './leftovers.ts'
import type { ReindexOptions } from './options.ts'
import { diskRefusal, oldTransactionRefusal, standbyRefusal, versionRefusal, windowRefusal, type Refusal, type ServerFacts } from './preflight.ts'
import { MaintenanceSession, sqlState } from './session.ts'
import { LIST_INDEXES, LIST_INVALID_INDEXES, PGSTATINDEX, SERVER_FACTS, qualified } from './sql.ts'
import { formatBytes } from './units.ts'

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
  action: 'rebuild' | 'skip'
  reason: string
  tablespaceLocation: string
}

export interface ReindexPlan {
  createdAt: string
  server: { version: string; blockSize: number }
  thresholds: { minBloatPercent: number; minBloatSize: number; minTableSize: number; maxIndexSize: number | null }
  /** Tables analyzed before their estimates were trusted. */
  analyzed: string[]
  notes: string[]
  indexes: IndexDecision[]
  invalid: InvalidIndex[]
  /** Why `reindex:apply` would refuse to run now (empty when it would run). */
  refusals: Refusal[]
  totals: { indexes: number; rebuild: number; skip: number; expectedGainBytes: number }
}

type IndexRow = {
  index_oid: string
  table_oid: string
  schema: string
  table_name: string
  index_name: string
  method: string
  relpages: string
  reltuples: number
  table_pages: string
  table_tuples: number
  valid: boolean
  temporary: boolean
  fillfactor: number
  exclusion: boolean
  tablespace_location: string
  data_width: number
  has_nulls: boolean
  missing_stats: boolean
  has_name: boolean
  never_analyzed: boolean
  modified_since_analyze: number
  dead_tuples: number
}

/** `audit_*`, `public.events`, `archive.*`: matched against index and table, with or without schema. */
export function excludedBy(patterns: string[], schema: string, table: string, index: string): string | undefined {
  return patterns.find((pattern) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
    return [index, table, `${schema}.${index}`, `${schema}.${table}`].some((name) => re.test(name))
  })
}

export interface PlanContext {
  db: Db
  logger: Logger
  signal: AbortSignal
  dryRun: boolean
}

/**
 * Decides, for every index of a user table, whether to rebuild it and why. ANALYZEs the
 * tables of candidates (and of indexes whose statistics are missing or stale) before
 * trusting their estimates, unless this is a dry run; confirms with pgstatindex if asked.
 */
export async function planReindex(ctx: PlanContext, options: ReindexOptions): Promise<ReindexPlan> {
  const { db, signal } = ctx
  const facts = (await db.query<ServerFacts>(SERVER_FACTS, [], { signal })).rows[0]!
  const notes: string[] = []
  const schemas = options.schemas ?? null
  let rows = (await db.query<IndexRow>(LIST_INDEXES, [schemas], { signal })).rows
  const analyzed: string[] = []
  const fresh = new Set<string>() // table oids analyzed just now: their statistics are current
  const analyzeFailed = new Map<string, string>()

  if (options.analyzeBeforeEstimate && !facts.in_recovery) {
    const tables = new Map<string, { schema: string; table: string }>()
    for (const row of rows) {
      if (staticSkip(row, options) || tooSmall(row, facts, options)) continue
      const distrust = distrustReason(row)
      const figures = estimateIndexBloat(estimateInput(row, facts))
      const largeEnough = Number(row.relpages) * facts.block_size >= options.minBloatSize
      if (passes(figures, options) || (distrust && (largeEnough || row.never_analyzed))) tables.set(row.table_oid, { schema: row.schema, table: row.table_name })
    }
    if (tables.size && ctx.dryRun) notes.push(`dry run: the statistics of ${tables.size} table(s) were not refreshed with ANALYZE, so their estimates may be stale`)
    else if (tables.size) {
      const session = await MaintenanceSession.open(db, 'dbops-reindex-plan')
      try {
        await session.set({ lock_timeout: `${options.analyze.lockTimeout}`, statement_timeout: `${options.analyze.statementTimeout}` })
        for (const [oid, { schema, table }] of tables) {
          const name = qualified(schema, table)
          try {
            await session.query(`analyze ${name}`, [], signal)
            analyzed.push(`${schema}.${table}`)
            fresh.add(oid)
          } catch (error) {
            if (signal.aborted) throw error
            const why = sqlState(error) === '55P03' ? 'its lock was not available' : (error as Error).message
            analyzeFailed.set(`${schema}.${table}`, why)
            ctx.logger.warn(`could not analyze ${schema}.${table} before estimating: ${why}`)
          }
        }
      } finally {
        await session.close()
      }
      rows = (await db.query<IndexRow>(LIST_INDEXES, [schemas], { signal })).rows
    }
  }

  let measure: ((row: IndexRow) => Promise<BloatFigures | string>) | undefined
  if (options.confirmWithPgstattuple) {
    if (!facts.has_pgstattuple) notes.push('confirmWithPgstattuple is set but the pgstattuple extension is not installed in this database: estimates were not confirmed (CREATE EXTENSION pgstattuple)')
    else {
      measure = async (row) => {
        try {
          const r = (await db.query<PgstatindexRow>(PGSTATINDEX(facts.pgstattuple_schema!), [row.index_oid], { signal })).rows[0]!
          return measuredIndexBloat(mapNumbers(r), facts.block_size, row.fillfactor)
        } catch (error) {
          if (signal.aborted) throw error
          return `pgstatindex failed: ${(error as Error).message}`
        }
      }
    }
  }

  const indexes: IndexDecision[] = []
  const invalidRows: IndexRow[] = []
  for (const row of rows) {
    if (!row.valid) {
      invalidRows.push(row)
      continue
    }
    const justAnalyzed = fresh.has(row.table_oid)
    indexes.push(await decide(justAnalyzed ? { ...row, never_analyzed: false, modified_since_analyze: 0 } : row, facts, options, analyzeFailed.get(`${row.schema}.${row.table_name}`), measure))
  }
  const rebuilds = indexes.filter((d) => d.action === 'rebuild').sort((a, b) => (b.bloatBytes ?? 0) - (a.bloatBytes ?? 0) || `${a.schema}.${a.index}`.localeCompare(`${b.schema}.${b.index}`))
  if (options.maxIndexesPerRun !== undefined) {
    for (const d of rebuilds.splice(options.maxIndexesPerRun)) Object.assign(d, { action: 'skip', reason: `over maxIndexesPerRun (${options.maxIndexesPerRun}); ${d.reason}` })
  }
  const ordered = [...rebuilds, ...indexes.filter((d) => d.action === 'skip').sort((a, b) => (b.bloatBytes ?? -1) - (a.bloatBytes ?? -1))]

  const invalid = classifyInvalid((await db.query(LIST_INVALID_INDEXES, [], { signal })).rows as never)
  const refusals = await preflightRefusals(db, options, facts, rebuilds, signal)
  const disk = await diskRefusal(db, options, largestRebuild(rebuilds))
  if (disk.refusal) refusals.push(disk.refusal)
  notes.push(disk.note)

  return {
    createdAt: new Date().toISOString(),
    server: { version: facts.version, blockSize: facts.block_size },
    thresholds: { minBloatPercent: options.minBloatPercent, minBloatSize: options.minBloatSize, minTableSize: options.minTableSize, maxIndexSize: options.maxIndexSize ?? null },
    analyzed,
    notes,
    indexes: ordered,
    invalid,
    refusals,
    totals: { indexes: ordered.length, rebuild: rebuilds.length, skip: ordered.length - rebuilds.length, expectedGainBytes: rebuilds.reduce((n, d) => n + (d.bloatBytes ?? 0), 0) },
  }
}

/** Standby, version, window and old transactions: everything but disk, which needs a plan. */
export async function preflightRefusals(db: Db, options: ReindexOptions, facts: ServerFacts, rebuilds: IndexDecision[], signal?: AbortSignal): Promise<Refusal[]> {
  const out: (Refusal | null)[] = [standbyRefusal(facts), versionRefusal(facts.version_num, facts.version), windowRefusal(options)]
  if (rebuilds.length) out.push(await oldTransactionRefusal(db, options, signal))
  return out.filter((r): r is Refusal => r !== null)
}

export function largestRebuild(rebuilds: IndexDecision[]): { name: string; expectedBytes: number; tablespaceLocation: string } | undefined {
  const top = [...rebuilds].sort((a, b) => (b.expectedBytes ?? b.sizeBytes) - (a.expectedBytes ?? a.sizeBytes))[0]
  return top && { name: `${top.schema}.${top.index}`, expectedBytes: top.expectedBytes ?? top.sizeBytes, tablespaceLocation: top.tablespaceLocation }
}

function mapNumbers(r: PgstatindexRow): PgstatindexRow {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as unknown as PgstatindexRow
}

function estimateInput(row: IndexRow, facts: ServerFacts) {
  return { relpages: Number(row.relpages), reltuples: row.reltuples, blockSize: facts.block_size, fillfactor: row.fillfactor, dataWidth: row.data_width, hasNulls: row.has_nulls }
}

function passes(f: BloatFigures, options: ReindexOptions): boolean {
  return f.bloatPercent >= options.minBloatPercent && f.bloatBytes >= options.minBloatSize
}

/** Reasons that need no estimate. */
function staticSkip(row: IndexRow, options: ReindexOptions): string | undefined {
  if (row.temporary) return 'index of a temporary table'
  if (row.method !== 'btree') return `${row.method} index: only btree bloat is estimated`
  if (row.exclusion) return 'backs an exclusion constraint, which cannot be rebuilt concurrently'
  const pattern = excludedBy(options.exclude, row.schema, row.table_name, row.index_name)
  if (pattern) return `excluded by the pattern '${pattern}'`
  return undefined
}

function tooSmall(row: IndexRow, facts: ServerFacts, options: ReindexOptions): boolean {
  return Number(row.table_pages) * facts.block_size < options.minTableSize && !row.never_analyzed
}

async function decide(row: IndexRow, facts: ServerFacts, options: ReindexOptions, analyzeFailed: string | undefined, measure: ((row: IndexRow) => Promise<BloatFigures | string>) | undefined): Promise<IndexDecision> {
  const sizeBytes = Number(row.relpages) * facts.block_size
  const tableBytes = Number(row.table_pages) * facts.block_size
  const base = { schema: row.schema, table: row.table_name, index: row.index_name, method: row.method, sizeBytes, tableBytes, tablespaceLocation: row.tablespace_location }
  const skip = (reason: string, f?: BloatFigures, source: IndexDecision['source'] = f ? 'estimate' : 'none'): IndexDecision => ({
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
  if (tableBytes < options.minTableSize) return skip(`table is ${formatBytes(tableBytes)}, under minTableSize (${formatBytes(options.minTableSize)})`)
  if (options.maxIndexSize !== undefined && sizeBytes > options.maxIndexSize) return skip(`index is ${formatBytes(sizeBytes)}, over maxIndexSize (${formatBytes(options.maxIndexSize)})`)
  const estimate = estimateIndexBloat(estimateInput(row, facts))
  const distrust = distrustReason(row)
  let figures: BloatFigures | undefined = distrust ? undefined : estimate
  let source: IndexDecision['source'] = 'estimate'
  const worthMeasuring = passes(estimate, options) || (distrust !== null && sizeBytes >= options.minBloatSize)
  if (measure && worthMeasuring) {
    const measured = await measure(row)
    if (typeof measured === 'string') return skip(`${measured}; not rebuilt unconfirmed`, figures)
    if (figures && !passes(measured, options)) {
      return skip(`estimated bloat ${pct(estimate)} (${formatBytes(estimate.bloatBytes)}) not confirmed: pgstatindex measured ${pct(measured)} (${formatBytes(measured.bloatBytes)})${row.dead_tuples > 0.1 * Math.max(row.table_tuples, 1) ? '; the table has many dead rows not yet vacuumed, which the measurement counts as live' : ''}`, measured, 'pgstatindex')
    }
    figures = measured
    source = 'pgstatindex'
  }
  if (!figures) return skip(`estimate not trusted: ${distrust}${analyzeFailed ? ` (ANALYZE failed: ${analyzeFailed})` : ''}`)
  const over = `${options.minBloatPercent}% and ${formatBytes(options.minBloatSize)}`
  if (figures.bloatPercent < options.minBloatPercent) return skip(`bloat ${pct(figures)} (${formatBytes(figures.bloatBytes)}) is under minBloatPercent (${options.minBloatPercent}%)`, figures, source)
  if (figures.bloatBytes < options.minBloatSize) return skip(`bloat ${formatBytes(figures.bloatBytes)} (${pct(figures)}) is under minBloatSize (${formatBytes(options.minBloatSize)})`, figures, source)
  return {
    ...base,
    bloatBytes: figures.bloatBytes,
    bloatPercent: round(figures.bloatPercent),
    expectedBytes: figures.expectedBytes,
    source,
    action: 'rebuild',
    reason: `${source === 'pgstatindex' ? 'measured' : 'estimated'} bloat ${pct(figures)} (${formatBytes(figures.bloatBytes)}) is over ${over}`,
  }
}

const round = (n: number) => Math.round(n * 10) / 10
const pct = (f: BloatFigures) => `${round(f.bloatPercent)}%`
