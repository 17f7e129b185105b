import {
  fillfactorOf,
  listIndexesSql,
  measuredIndexBloat,
  type Db,
  type IndexRow,
  type Logger,
  type PgstatindexRow,
} from 'dbops/plugin'
import { decide, type IndexDecision, type Measure } from './decide.ts'
import { refreshStatistics, tablesToRefresh } from './fresh-statistics.ts'
import { classifyInvalid, type InvalidIndex, type InvalidIndexRow } from './leftovers.ts'
import type { ReindexOptions } from './options.ts'
import {
  diskRefusal,
  oldTransactionRefusal,
  standbyRefusal,
  versionRefusal,
  windowRefusal,
  type Refusal,
  type ServerFacts,
} from './preflight.ts'
import { LIST_INVALID_INDEXES, PGSTATINDEX, SERVER_FACTS } from './sql.ts'

export interface ReindexPlan {
  createdAt: string
  server: { version: string; blockSize: number }
  thresholds: {
    minBloatPercent: number
    minBloatSize: number
    minTableSize: number
    maxIndexSize: number | null
  }
  /** Tables analyzed before their estimates were trusted. */
  analyzed: string[]
  notes: string[]
  indexes: IndexDecision[]
  invalid: InvalidIndex[]
  /** Why `reindex:apply` would refuse to run now (empty when it would run). */
  refusals: Refusal[]
  totals: { indexes: number; rebuild: number; skip: number; expectedGainBytes: number }
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
  const listIndexes = async () =>
    (
      await db.query<IndexRow>(listIndexesSql(serverOf(facts)), [options.schemas ?? null, 0], {
        signal,
      })
    ).rows
  let rows = await listIndexes()
  const statistics =
    options.analyzeBeforeEstimate && !facts.in_recovery
      ? await refreshStatistics(ctx, options, tablesToRefresh(rows, facts, options))
      : { analyzed: [], fresh: new Set<string>(), failed: new Map<string, string>() }
  if (statistics.fresh.size) rows = await listIndexes()
  const notes = statistics.note ? [statistics.note] : []

  const measure = pgstatindexMeasure(ctx, options, facts, notes)
  const indexes: IndexDecision[] = []
  for (const row of rows) {
    if (!row.valid) continue // listed with the invalid indexes below
    const current = statistics.fresh.has(row.table_oid)
      ? { ...row, never_analyzed: false, modified_since_analyze: 0 }
      : row
    const analyzeFailed = statistics.failed.get(`${row.schema}.${row.table_name}`)
    indexes.push(
      await decide(current, { server: serverOf(facts), options, measure, analyzeFailed }),
    )
  }
  if (options.confirmWithPgstattuple === 'deduplicated' && !measure)
    notes.push(...unconfirmedNote(indexes))
  const { rebuilds, ordered } = orderDecisions(indexes, options)

  const invalid = classifyInvalid(
    (await db.query<InvalidIndexRow>(LIST_INVALID_INDEXES, [], { signal })).rows,
  )
  const refusals = await preflightRefusals(db, options, facts, rebuilds, signal)
  const disk = await diskRefusal(db, options, largestRebuild(rebuilds))
  if (disk.refusal) refusals.push(disk.refusal)
  notes.push(disk.note)

  return {
    createdAt: new Date().toISOString(),
    server: { version: facts.version, blockSize: facts.block_size },
    thresholds: {
      minBloatPercent: options.minBloatPercent,
      minBloatSize: options.minBloatSize,
      minTableSize: options.minTableSize,
      maxIndexSize: options.maxIndexSize ?? null,
    },
    analyzed: statistics.analyzed,
    notes,
    indexes: ordered,
    invalid,
    refusals,
    totals: {
      indexes: ordered.length,
      rebuild: rebuilds.length,
      skip: ordered.length - rebuilds.length,
      expectedGainBytes: rebuilds.reduce((n, d) => n + (d.bloatBytes ?? 0), 0),
    },
  }
}

const serverOf = (facts: ServerFacts) => ({
  blockSize: facts.block_size,
  versionNum: facts.version_num,
  superuser: facts.superuser,
})

/**
 * pgstatindex's measurement of an index, when pgstattuple is installed and the options ask for
 * it (or leave it to the plan). Reads the whole index, so it runs only for candidates.
 */
function pgstatindexMeasure(
  ctx: PlanContext,
  options: ReindexOptions,
  facts: ServerFacts,
  notes: string[],
): Measure | undefined {
  const confirm = options.confirmWithPgstattuple
  if (confirm === true && !facts.has_pgstattuple)
    notes.push(
      'confirmWithPgstattuple is set but the pgstattuple extension is not installed in this database: estimates were not confirmed (CREATE EXTENSION pgstattuple)',
    )
  if (confirm === false || !facts.has_pgstattuple) return undefined
  const sql = PGSTATINDEX(facts.pgstattuple_schema!)
  return async (row) => {
    try {
      const { rows } = await ctx.db.query<PgstatindexRow>(sql, [row.index_oid], {
        signal: ctx.signal,
      })
      return measuredIndexBloat(rows[0]!, facts.block_size, fillfactorOf(row))
    } catch (error) {
      if (ctx.signal.aborted) throw error
      return `pgstatindex failed: ${(error as Error).message}`
    }
  }
}

function unconfirmedNote(indexes: IndexDecision[]): string[] {
  const unconfirmed = indexes.filter(
    (d) => d.action === 'rebuild' && d.deduplicated && d.source === 'estimate',
  ).length
  return unconfirmed
    ? [
        `${unconfirmed} rebuild(s) rest on the estimate of btree deduplication alone (from n_distinct, which ANALYZE can underestimate): install pgstattuple to have pgstatindex confirm them`,
      ]
    : []
}

/**
 * Rebuilds first, most bloat first (past `maxIndexesPerRun` they become skips), then the
 * skips, most bloat first.
 */
function orderDecisions(
  indexes: IndexDecision[],
  options: ReindexOptions,
): { rebuilds: IndexDecision[]; ordered: IndexDecision[] } {
  const rebuilds = indexes
    .filter((d) => d.action === 'rebuild')
    .sort(
      (a, b) =>
        (b.bloatBytes ?? 0) - (a.bloatBytes ?? 0) ||
        `${a.schema}.${a.index}`.localeCompare(`${b.schema}.${b.index}`),
    )
  if (options.maxIndexesPerRun !== undefined) {
    for (const d of rebuilds.splice(options.maxIndexesPerRun))
      Object.assign(d, {
        action: 'skip',
        reason: `over maxIndexesPerRun (${options.maxIndexesPerRun}); ${d.reason}`,
      })
  }
  const skips = indexes
    .filter((d) => d.action === 'skip')
    .sort((a, b) => (b.bloatBytes ?? -1) - (a.bloatBytes ?? -1))
  return { rebuilds, ordered: [...rebuilds, ...skips] }
}

/** Standby, version, window and old transactions: everything but disk, which needs a plan. */
export async function preflightRefusals(
  db: Db,
  options: ReindexOptions,
  facts: ServerFacts,
  rebuilds: IndexDecision[],
  signal?: AbortSignal,
): Promise<Refusal[]> {
  const out: (Refusal | null)[] = [
    standbyRefusal(facts),
    versionRefusal(facts.version_num, facts.version),
    windowRefusal(options),
  ]
  if (rebuilds.length) out.push(await oldTransactionRefusal(db, options, signal))
  return out.filter((r): r is Refusal => r !== null)
}

export function largestRebuild(
  rebuilds: IndexDecision[],
): { name: string; expectedBytes: number; tablespaceLocation: string } | undefined {
  const top = [...rebuilds].sort(
    (a, b) => (b.expectedBytes ?? b.sizeBytes) - (a.expectedBytes ?? a.sizeBytes),
  )[0]
  return (
    top && {
      name: `${top.schema}.${top.index}`,
      expectedBytes: top.expectedBytes ?? top.sizeBytes,
      tablespaceLocation: top.tablespaceLocation,
    }
  )
}
