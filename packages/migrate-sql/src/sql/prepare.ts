import { DbopsError } from 'dbops/plugin'
import { assertDecoded, type MigrationFile, type Section } from '../files/migration-file.ts'
import { cooperate } from '../cooperate.ts'
import { lineIndex, type LineIndex } from './lines.ts'
import type { AnyNode } from './nodes.ts'
import { splitStatementsCooperatively, SqlSyntaxError, type Statement } from './parser.ts'
import { substitutePlaceholders } from './placeholders.ts'

export interface PreparedStatement extends Statement {
  /** Character offset in the file (placeholders mapped back). */
  fileOffset: number
  /** Character offset in the file just after the statement's last character. */
  fileEnd: number
  line: number
  column: number
  /** Lint rules switched off for this statement by `-- dbops:lint-ignore`. */
  lintIgnore: ReadonlySet<string>
}

export interface PreparedSection {
  statements: PreparedStatement[]
  /** Maps an offset in the substituted section text to line/column in the file. */
  locate(sectionOffset: number): { line: number; column: number }
  /** Rules ignored for the whole file (`-- dbops:lint-ignore-file`). */
  fileLintIgnore: Set<string>
}

const LINT_IGNORE = /--[ \t]*dbops:lint-ignore(-file)?[ \t]+([a-z0-9_,\- \t]+)/gi
const NONE: ReadonlySet<string> = new Set()

/**
 * Substitutes placeholders and splits a section into statements with the PostgreSQL parser.
 * Throws MIGRATION_SYNTAX with `file:line:column` on a syntax error, before anything runs.
 * Linear in the size of the file, and it lets the event loop run as it goes (`signal` is
 * honoured), so a 20 MB data file takes seconds and a Ctrl-C stops it.
 */
export async function prepareSection(
  file: MigrationFile,
  section: Section,
  placeholders: Readonly<Record<string, string>>,
  signal?: AbortSignal,
): Promise<PreparedSection> {
  assertDecoded(file)
  const lines = linesOf(file)
  const sub = substitutePlaceholders(section.text, placeholders)
  if (sub.unknown.length) {
    const first = sub.unknown[0]!
    const at = lines.locate(section.offset + first.offset)
    const names = [...new Set(sub.unknown.map((u) => u.name))]
    throw new DbopsError(
      'MIGRATION_PLACEHOLDER_UNKNOWN',
      `${file.display}:${at.line}:${at.column}: placeholder ${names.map((n) => `\${${n}}`).join(', ')} has no value`,
      {
        hint: `Add ${names.map((n) => `${n}: '...'`).join(', ')} to the migrate plugin's \`placeholders\` option.`,
      },
    )
  }
  const locate = (offset: number) => lines.locate(section.offset + sub.toOriginal(offset))
  let statements: Statement[]
  try {
    statements = await splitStatementsCooperatively(sub.text, { signal, slim: true })
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error
    const at = locate(error.offset)
    throw new DbopsError(
      'MIGRATION_SYNTAX',
      `${file.display}:${at.line}:${at.column}: ${error.message}`,
      {
        hint: 'Fix the SQL; nothing was applied from this file.',
      },
    )
  }
  // Directives in comments, in file order; each statement takes the ones between the previous statement and itself.
  const ignores = [...section.text.matchAll(LINT_IGNORE)].map((m) => ({
    offset: m.index!,
    file: Boolean(m[1]),
    rules: m[2]!.split(/[\s,]+/).filter(Boolean),
  }))
  const fileLintIgnore = new Set(ignores.filter((i) => i.file).flatMap((i) => i.rules))
  const statementIgnores = ignores.filter((i) => !i.file)
  let next = 0
  let previousEnd = 0
  const prepared: PreparedStatement[] = new Array(statements.length)
  for (let k = 0; k < statements.length; k++) {
    const s = statements[k]!
    const start = sub.toOriginal(s.start)
    let lintIgnore = NONE
    while (next < statementIgnores.length && statementIgnores[next]!.offset < start) {
      const i = statementIgnores[next++]!
      if (i.offset >= previousEnd) lintIgnore = new Set([...lintIgnore, ...i.rules])
    }
    previousEnd = sub.toOriginal(s.start + s.sql.length)
    const fileOffset = section.offset + start
    const { line, column } = lines.locate(fileOffset)
    // One literal of fixed shape: a spread makes objects several times larger, and a data file has 100k of them.
    prepared[k] = {
      sql: s.sql,
      start: s.start,
      node: s.node,
      type: s.type,
      fileOffset,
      fileEnd: section.offset + previousEnd,
      line,
      column,
      lintIgnore,
    }
    if ((k & 4095) === 4095) await cooperate(signal)
  }
  return { statements: prepared, locate, fileLintIgnore }
}

/** The file's line index, built once per file. */
function linesOf(file: MigrationFile): LineIndex {
  let index = lineIndexes.get(file)
  if (!index) {
    index = lineIndex(file.text)
    lineIndexes.set(file, index)
  }
  return index
}
const lineIndexes = new WeakMap<MigrationFile, LineIndex>()

/** Why a statement cannot run inside a transaction block, or undefined when it can. */
export function needsNoTransaction(s: Statement): string | undefined {
  const n = s.node
  if (n.IndexStmt?.concurrent) return 'CREATE INDEX CONCURRENTLY'
  if (n.DropStmt?.concurrent) return 'DROP INDEX CONCURRENTLY'
  if (n.ReindexStmt && JSON.stringify(n.ReindexStmt.params ?? []).includes('"concurrently"'))
    return 'REINDEX CONCURRENTLY'
  if (n.VacuumStmt?.is_vacuumcmd) return 'VACUUM'
  if (n.CreatedbStmt) return 'CREATE DATABASE'
  if (n.DropdbStmt) return 'DROP DATABASE'
  if (n.CreateTableSpaceStmt) return 'CREATE TABLESPACE'
  if (n.DropTableSpaceStmt) return 'DROP TABLESPACE'
  if (n.AlterSystemStmt) return 'ALTER SYSTEM'
  if (n.CreateSubscriptionStmt) return 'CREATE SUBSCRIPTION'
  if (n.DropSubscriptionStmt) return 'DROP SUBSCRIPTION'
  const detachesConcurrently = (c: AnyNode) => {
    const def: AnyNode | undefined = c.AlterTableCmd?.def
    return def?.PartitionCmd?.concurrent === true
  }
  if (n.AlterTableStmt?.cmds?.some(detachesConcurrently)) return 'DETACH PARTITION CONCURRENTLY'
  return undefined
}

/** `SET client_encoding` / `SET NAMES` to anything but UTF-8: the rest of the session would be misread. */
export function switchesClientEncoding(s: Statement): boolean {
  const v = s.node.VariableSetStmt
  if (v?.name !== 'client_encoding' || v.kind !== 'VAR_SET_VALUE') return false
  const first: AnyNode | undefined = v.args?.[0]
  const value = String(first?.A_Const?.sval?.sval ?? '')
    .toLowerCase()
    .replace(/[-_]/g, '')
  return value !== 'utf8' && value !== 'unicode'
}

export function isTransactionControl(s: Statement): boolean {
  return Boolean(s.node.TransactionStmt)
}
