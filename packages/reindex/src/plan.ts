import type { Db, Logger } from 'dbops/plugin'
import { decide, passes, staticSkip, type IndexDecision, type Measure } from './decide.ts'
import { measuredIndexBloat, type PgstatindexRow } from 'dbops/plugin'
import { estimateIndex, fillfactorOf, listIndexesSql, type IndexRow } from 'dbops/plugin'
import { classifyInvalid, type InvalidIndex } from './leftovers.ts'
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
import { MaintenanceSession, sqlState } from './session.ts'
import { LIST_INVALID_INDEXES, PGSTATINDEX, SERVER_FACTS, qualified } from './sql.ts'

export type { IndexDecision } from './decide.ts'
export { excludedBy } from './decide.ts'

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
  const server = {
    blockSize: facts.block_size,
    versionNum: facts.version_num,
    superuser: facts.superuser,
  }
  const notes: string[] = []
  const listIndexes = async () =>
    (await db.query<IndexRow>(listIndexesSql(server), [options.schemas ?? null, 0], { signal }))
      .rows
  let rows = await listIndexes()
  const analyzed: string[] = []
  const fresh = new Set<string>() // table oids analyzed just now: their statistics are current
  const analyzeFailed = new Map<string, string>()

  if (options.analyzeBeforeEstimate && !facts.in_recovery) {
    const tables = new Map<string, { schema: string; table: string }>()
    for (const row of rows) {
      if (!row.valid || staticSkip(row, options) || tooSmall(row, facts, options)) continue
      const e = estimateIndex(row, server)
      const largeEnough = Number(row.relpages) * facts.block_size >= options.minBloatSize
      if (passes(e.figures, options) || (e.distrust && (largeEnough || row.never_analyzed)))
        tables.set(row.table_oid, { schema: row.schema, table: row.table_name })
    }
    if (tables.size && ctx.dryRun)
      notes.push(
        `dry run: the statistics of ${tables.size} table(s) were not refreshed with ANALYZE, so their estimates may be stale`,
      )
    else if (tables.size) {
      const session = await MaintenanceSession.open(db, 'dbops-reindex-plan')
      try {
        await session.set({
          lock_timeout: `${options.analyze.lockTimeout}`,
          statement_timeout: `${options.analyze.statementTimeout}`,
        })
        for (const [oid, { schema, table }] of tables) {
          const name = qualified(schema, table)
          try {
            await session.query(`analyze ${name}`, [], signal)
            analyzed.push(`${schema}.${table}`)
            fresh.add(oid)
          } catch (error) {
            if (signal.aborted) throw error
            const why =
              sqlState(error) === '55P03' ? 'its lock was not available' : (error as Error).message
            analyzeFailed.set(`${schema}.${table}`, why)
            ctx.logger.warn(`could not analyze ${schema}.${table} before estimating: ${why}`)
          }
        }
      } finally {
        await session.close()
      }
      rows = await listIndexes()
    }
  }

  let measure: Measure | undefined
  const confirm = options.confirmWithPgstattuple
  if (confirm === true && !facts.has_pgstattuple)
    notes.push(
      'confirmWithPgstattuple is set but the pgstattuple extension is not installed in this database: estimates were not confirmed (CREATE EXTENSION pgstattuple)',
    )
  if (confirm !== false && facts.has_pgstattuple) {
    measure = async (row) => {
      try {
        const r = (
          await db.query<PgstatindexRow>(PGSTATINDEX(facts.pgstattuple_schema!), [row.index_oid], {
            signal,
          })
        ).rows[0]!
        return measuredIndexBloat(mapNumbers(r), facts.block_size, fillfactorOf(row))
      } catch (error) {
        if (signal.aborted) throw error
        return `pgstatindex failed: ${(error as Error).message}`
      }
    }
  }

  const indexes: IndexDecision[] = []
  for (const row of rows) {
    if (!row.valid) continue // listed with the invalid indexes below
    const justAnalyzed = fresh.has(row.table_oid)
    const current = justAnalyzed
      ? { ...row, never_analyzed: false, modified_since_analyze: 0 }
      : row
    indexes.push(
      await decide(current, {
        server,
        options,
        measure,
        analyzeFailed: analyzeFailed.get(`${row.schema}.${row.table_name}`),
      }),
    )
  }
  if (confirm === 'deduplicated' && !measure) {
    const unconfirmed = indexes.filter(
      (d) => d.action === 'rebuild' && d.deduplicated && d.source === 'estimate',
    ).length
    if (unconfirmed)
      notes.push(
        `${unconfirmed} rebuild(s) rest on the estimate of btree deduplication alone (from n_distinct, which ANALYZE can underestimate): install pgstattuple to have pgstatindex confirm them`,
      )
  }
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
  const ordered = [
    ...rebuilds,
    ...indexes
      .filter((d) => d.action === 'skip')
      .sort((a, b) => (b.bloatBytes ?? -1) - (a.bloatBytes ?? -1)),
  ]

  const invalid = classifyInvalid(
    (await db.query(LIST_INVALID_INDEXES, [], { signal })).rows as never,
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
    analyzed,
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

function mapNumbers(r: PgstatindexRow): PgstatindexRow {
  return Object.fromEntries(
    Object.entries(r).map(([k, v]) => [k, Number(v)]),
  ) as unknown as PgstatindexRow
}

function tooSmall(row: IndexRow, facts: ServerFacts, options: ReindexOptions): boolean {
  return Number(row.table_pages) * facts.block_size < options.minTableSize && !row.never_analyzed
}
