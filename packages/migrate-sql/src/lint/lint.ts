import { formatBytes, quoteIdent } from 'dbops/plugin'
import { cooperate } from '../cooperate.ts'
import type { MigrationFile } from '../files/migration-file.ts'
import { isRowStatement } from '../sql/parser.ts'
import type { PreparedSection } from '../sql/prepare.ts'
import { literal } from '../sql/quote.ts'
import type { MigrationSession } from '../session.ts'
import { RULES } from './rules.ts'
import type { RawFinding, Severity, TableRef } from './rules/define.ts'

export interface Finding {
  rule: string
  severity: Severity
  file: string
  line: number
  column: number
  message: string
  fix: string
  table?: string
  tableBytes?: number
  tableRows?: number
}

export interface LintInput {
  file: MigrationFile
  section: PreparedSection
  transactional: boolean
}

export interface LintSettings {
  disable: string[]
  smallTableBytes: number
  largeTableBytes: number
  /** The runner sets lock_timeout itself. */
  runnerLockTimeout: boolean
}

interface TableSize {
  exists: boolean
  bytes: number
  heapBytes: number
  rows: number
}

/**
 * Lints files in the order they will run, knowing how dbops runs them (which statements
 * share a transaction, that lock_timeout is set) and, with a session, weighing each
 * lock or rewrite finding by the table's real size: a rewrite of an empty table is fine,
 * of a large one an error. Tables created earlier in the same run are new and exempt.
 */
export async function lintMigrations(
  inputs: LintInput[],
  settings: LintSettings,
  session?: MigrationSession,
  signal?: AbortSignal,
): Promise<Finding[]> {
  const created = new Set<string>()
  const raw: Array<{ input: LintInput; line: number; column: number; finding: RawFinding }> = []
  let seen = 0
  for (const input of inputs) {
    let fileSetsLockTimeout = false
    for (const s of input.section.statements) {
      if ((++seen & 4095) === 0) await cooperate(signal)
      // No rule looks at row statements; a data file is mostly those.
      if (isRowStatement(s.type)) continue
      if (s.node.VariableSetStmt?.name === 'lock_timeout') fileSetsLockTimeout = true
      const ctx = {
        statement: s,
        transactional: input.transactional,
        lockTimeoutSet: settings.runnerLockTimeout || fileSetsLockTimeout,
      }
      for (const rule of RULES) {
        if (
          settings.disable.includes(rule.name) ||
          s.lintIgnore.has(rule.name) ||
          input.section.fileLintIgnore.has(rule.name)
        )
          continue
        for (const finding of rule.check(ctx)) {
          if (
            finding.table &&
            (created.has(key(finding.table)) || created.has(`.${finding.table.name}`.toLowerCase()))
          )
            continue
          raw.push({ input, line: s.line, column: s.column, finding })
        }
      }
      const rel = s.node.CreateStmt?.relation ?? s.node.CreateTableAsStmt?.into?.rel
      if (rel?.relname)
        created
          .add(key({ schema: rel.schemaname, name: rel.relname }))
          .add(`.${rel.relname}`.toLowerCase())
    }
  }
  const tables = [
    ...new Map(
      raw
        .filter((r) => r.finding.table && r.finding.weigh !== 'none')
        .map((r) => [key(r.finding.table!), r.finding.table!]),
    ).values(),
  ]
  const sizes = session && tables.length ? await tableSizes(session, tables) : undefined
  return raw.map(({ input, line, column, finding }) =>
    weigh(
      {
        rule: finding.rule,
        severity: finding.severity,
        file: input.file.display,
        line,
        column,
        message: finding.message,
        fix: finding.fix,
      },
      finding,
      sizes,
      settings,
    ),
  )
}

function weigh(
  out: Finding,
  raw: RawFinding,
  sizes: Map<string, TableSize> | undefined,
  settings: LintSettings,
): Finding {
  if (raw.weigh === 'none' || !raw.table) return out
  out.table = raw.table.schema ? `${raw.table.schema}.${raw.table.name}` : raw.table.name
  const size = sizes?.get(key(raw.table))
  if (!sizes)
    return { ...out, message: `${out.message} (table size unknown without a database connection)` }
  if (!size?.exists)
    return {
      ...out,
      severity: 'warning',
      message: `${out.message} (table not found in the database)`,
    }
  out.tableBytes = size.bytes
  out.tableRows = size.rows
  const desc = `${formatBytes(size.bytes)}, ~${Math.max(size.rows, 0).toLocaleString('en-US')} rows`
  if (raw.weigh === 'rows') {
    return size.heapBytes === 0
      ? { ...out, severity: 'info', message: `${out.message}; fine: the table is empty` }
      : {
          ...out,
          severity: 'error',
          message: `${out.message}; the table has rows (${desc}), so this fails`,
        }
  }
  if (size.bytes <= settings.smallTableBytes)
    return {
      ...out,
      severity: 'info',
      message: `${out.message}; fine: the table is small (${desc})`,
    }
  if (size.bytes >= settings.largeTableBytes)
    return { ...out, severity: 'error', message: `${out.message}; the table is large (${desc})` }
  return { ...out, severity: 'warning', message: `${out.message} (${desc})` }
}

async function tableSizes(
  session: MigrationSession,
  tables: TableRef[],
): Promise<Map<string, TableSize>> {
  const names = tables.map((t) =>
    t.schema ? `${quoteIdent(t.schema)}.${quoteIdent(t.name)}` : quoteIdent(t.name),
  )
  const rows = await session.run<
    Array<{
      name: string
      exists: boolean
      bytes: string | null
      heap: string | null
      rows: string | null
    }>
  >(`
    select n.name, c.oid is not null as exists, pg_total_relation_size(c.oid)::text as bytes, pg_relation_size(c.oid)::text as heap, c.reltuples::bigint::text as rows
      from unnest(array[${names.map(literal).join(', ')}]::text[]) with ordinality as n(name, i)
      left join pg_class c on c.oid = to_regclass(n.name)
     order by n.i`)
  const out = new Map<string, TableSize>()
  for (const [i, r] of rows.entries()) {
    out.set(key(tables[i]!), {
      exists: r.exists,
      bytes: Number(r.bytes ?? 0),
      heapBytes: Number(r.heap ?? 0),
      rows: Number(r.rows ?? 0),
    })
  }
  return out
}

const key = (t: TableRef) => `${t.schema ?? ''}.${t.name}`.toLowerCase()

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}  ${f.severity}  ${f.rule}: ${f.message}\n    fix: ${f.fix}  (or \`-- dbops:lint-ignore ${f.rule}\` above the statement)`
}
