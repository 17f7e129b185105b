import type { Context, Db, DbSession } from 'dbops/plugin'
import { refusalError } from './apply.ts'
import type { ReindexOptions } from './options.ts'
import { excludedBy } from './decide.ts'
import { standbyRefusal, windowRefusal, type Refusal, type ServerFacts } from './preflight.ts'
import { sqlState } from './sqlstate.ts'
import { SERVER_FACTS, TABLES_TO_MAINTAIN, qualified } from './sql.ts'
import { formatDuration } from 'dbops/plugin'

export interface TableAction {
  schema: string
  table: string
  action: 'analyze' | 'vacuum analyze'
  /** What passed the threshold. */
  why: string
}

export interface TableOutcome extends TableAction {
  status: 'done' | 'skipped' | 'failed'
  reason?: string
  durationMs: number
}

export interface AnalyzeResult {
  status: 'done' | 'refused'
  refusals: Refusal[]
  analyzed: number
  vacuumed: number
  skipped: number
  failed: number
  durationMs: number
  tables: TableOutcome[]
}

type TableRow = {
  schema: string
  table_name: string
  table_oid: string
  rows: number
  modified: number
  dead: number
  never_analyzed: boolean
}

/** Tables whose modifications (or dead rows, with `analyze.vacuum`) pass the thresholds. */
export async function tablesToMaintain(
  db: Db,
  options: ReindexOptions,
  signal?: AbortSignal,
): Promise<TableAction[]> {
  const a = options.analyze
  const { rows } = await db.query<TableRow>(TABLES_TO_MAINTAIN, [options.schemas ?? null], {
    signal,
  })
  const out: TableAction[] = []
  for (const row of rows) {
    if (excludedBy(options.exclude, row.schema, row.table_name, '')) continue
    const deadLimit = a.minDead + a.deadFraction * row.rows
    const modLimit = a.minModified + a.modifiedFraction * row.rows
    const base = { schema: row.schema, table: row.table_name }
    if (a.vacuum && row.dead >= deadLimit && row.dead > 0)
      out.push({
        ...base,
        action: 'vacuum analyze',
        why: `${Math.round(row.dead)} dead rows ≥ ${Math.round(deadLimit)}`,
      })
    else if (row.modified >= modLimit && row.modified > 0)
      out.push({
        ...base,
        action: 'analyze',
        why: `${Math.round(row.modified)} rows modified since the last analyze ≥ ${Math.round(modLimit)}`,
      })
    else if (row.never_analyzed && row.rows !== 0 && row.modified > 0)
      out.push({ ...base, action: 'analyze', why: 'never analyzed' })
  }
  return out
}

/**
 * `reindex:analyze`: ANALYZE (or VACUUM (ANALYZE)) each table past its threshold, one at a
 * time on a session with lock and statement timeouts; a table whose lock is not available
 * is skipped and reported, like pghero's analyze_tables.
 */
export async function analyzeTables(ctx: Context, options: ReindexOptions): Promise<AnalyzeResult> {
  const started = Date.now()
  return ctx.db.withLock(
    options.lock.name,
    async () => {
      const facts = (await ctx.db.query<ServerFacts>(SERVER_FACTS, [], { signal: ctx.signal }))
        .rows[0]!
      const refusals = [standbyRefusal(facts), windowRefusal(options)].filter(
        (r): r is Refusal => r !== null,
      )
      const result: AnalyzeResult = {
        status: 'done',
        refusals,
        analyzed: 0,
        vacuumed: 0,
        skipped: 0,
        failed: 0,
        durationMs: 0,
        tables: [],
      }
      if (refusals.length) {
        if (options.preflight.whenRefused === 'fail') throw refusalError(refusals)
        return { ...result, status: 'refused', durationMs: Date.now() - started }
      }
      const todo = await tablesToMaintain(ctx.db, options, ctx.signal)
      const session = await ctx.db.session({
        applicationName: 'dbops-analyze',
        timeouts: {
          lockMs: options.analyze.lockTimeout,
          statementMs: options.analyze.statementTimeout,
        },
      })
      try {
        for (const t of todo)
          result.tables.push(await maintainTable(session, t, options, ctx.signal))
      } finally {
        await session.close()
      }
      const done = (action: TableAction['action']) =>
        result.tables.filter((t) => t.status === 'done' && t.action === action).length
      result.analyzed = done('analyze')
      result.vacuumed = done('vacuum analyze')
      result.skipped = result.tables.filter((t) => t.status === 'skipped').length
      result.failed = result.tables.filter((t) => t.status === 'failed').length
      result.durationMs = Date.now() - started
      return result
    },
    { waitMs: options.lock.wait, signal: ctx.signal },
  )
}

/** One ANALYZE or VACUUM (ANALYZE); a lock or statement timeout is a skip (policy), anything else a failure. */
async function maintainTable(
  session: DbSession,
  t: TableAction,
  options: ReindexOptions,
  signal: AbortSignal,
): Promise<TableOutcome> {
  const began = Date.now()
  const verb = t.action === 'analyze' ? 'analyze' : 'vacuum (analyze)'
  try {
    await session.query(`${verb} ${qualified(t.schema, t.table)}`, [], { signal })
    return { ...t, status: 'done', durationMs: Date.now() - began }
  } catch (error) {
    if (signal.aborted) throw error
    const code = sqlState(error)
    const reason =
      code === '55P03'
        ? `lock not available within ${formatDuration(options.analyze.lockTimeout)}`
        : code === '57014'
          ? `cancelled after ${formatDuration(options.analyze.statementTimeout)} (statement_timeout)`
          : (error as Error).message
    const policy = code === '55P03' || code === '57014'
    return { ...t, status: policy ? 'skipped' : 'failed', reason, durationMs: Date.now() - began }
  }
}

export function summarizeAnalyze(r: AnalyzeResult): string {
  if (r.status === 'refused') return `refused: ${r.refusals.map((x) => x.message).join('; ')}`
  const parts = [`${r.analyzed} analyzed`]
  if (r.vacuumed) parts.push(`${r.vacuumed} vacuumed`)
  if (r.skipped) parts.push(`${r.skipped} skipped`)
  if (r.failed) parts.push(`${r.failed} failed`)
  return `${parts.join(', ')} in ${formatDuration(r.durationMs)}`
}
