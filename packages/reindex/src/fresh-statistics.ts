import { estimateIndex, type IndexRow } from 'dbops/plugin'
import { passes, staticSkip } from './decide.ts'
import type { ReindexOptions } from './options.ts'
import type { ServerFacts } from './preflight.ts'
import type { PlanContext } from './plan.ts'
import { sqlState } from './sqlstate.ts'
import { qualified } from './sql.ts'

/** What ANALYZE before estimating did. */
export interface FreshStatistics {
  /** `schema.table` of every table analyzed. */
  analyzed: string[]
  /** Table oids analyzed just now: their statistics are current. */
  fresh: Set<string>
  /** Why ANALYZE failed, by `schema.table`. */
  failed: Map<string, string>
  /** Set when the run skipped it (a dry run). */
  note?: string
}

type Table = { schema: string; table: string }

/**
 * The tables whose estimates are worth refreshing: those of candidates, and of indexes whose
 * estimate is not to be trusted (missing or stale statistics) and large enough to matter.
 */
export function tablesToRefresh(
  rows: IndexRow[],
  facts: ServerFacts,
  options: ReindexOptions,
): Map<string, Table> {
  const server = {
    blockSize: facts.block_size,
    versionNum: facts.version_num,
    superuser: facts.superuser,
  }
  const tables = new Map<string, Table>()
  for (const row of rows) {
    if (!row.valid || staticSkip(row, options) || tooSmall(row, facts, options)) continue
    const e = estimateIndex(row, server)
    const largeEnough = Number(row.relpages) * facts.block_size >= options.minBloatSize
    if (passes(e.figures, options) || (e.distrust && (largeEnough || row.never_analyzed)))
      tables.set(row.table_oid, { schema: row.schema, table: row.table_name })
  }
  return tables
}

/**
 * ANALYZEs `tables` one at a time on a session of their own, under analyze's lock and
 * statement timeouts. A table that cannot be analyzed is reported and its estimate kept.
 * Under a dry run nothing is analyzed: the plan says its estimates may be stale.
 */
export async function refreshStatistics(
  ctx: PlanContext,
  options: ReindexOptions,
  tables: Map<string, Table>,
): Promise<FreshStatistics> {
  const result: FreshStatistics = { analyzed: [], fresh: new Set(), failed: new Map() }
  if (!tables.size) return result
  if (ctx.dryRun) {
    result.note = `dry run: the statistics of ${tables.size} table(s) were not refreshed with ANALYZE, so their estimates may be stale`
    return result
  }
  const session = await ctx.db.session({
    applicationName: 'dbops-reindex-plan',
    timeouts: {
      lockMs: options.analyze.lockTimeout,
      statementMs: options.analyze.statementTimeout,
    },
  })
  try {
    for (const [oid, { schema, table }] of tables) {
      try {
        await session.query(`analyze ${qualified(schema, table)}`, [], { signal: ctx.signal })
        result.analyzed.push(`${schema}.${table}`)
        result.fresh.add(oid)
      } catch (error) {
        if (ctx.signal.aborted) throw error
        const why =
          sqlState(error) === '55P03' ? 'its lock was not available' : (error as Error).message
        result.failed.set(`${schema}.${table}`, why)
        ctx.logger.warn(`could not analyze ${schema}.${table} before estimating: ${why}`)
      }
    }
  } finally {
    await session.close()
  }
  return result
}

function tooSmall(row: IndexRow, facts: ServerFacts, options: ReindexOptions): boolean {
  return Number(row.table_pages) * facts.block_size < options.minTableSize && !row.never_analyzed
}
