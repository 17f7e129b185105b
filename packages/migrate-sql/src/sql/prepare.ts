import { DbopsError } from 'dbops/plugin'
import type { MigrationFile, Section } from '../files/migration-file.ts'
import { lineColumn, splitStatements, SqlSyntaxError, type Statement } from './parser.ts'
import { substitutePlaceholders } from './placeholders.ts'

export interface PreparedStatement extends Statement {
  /** Character offset in the file (placeholders mapped back). */
  fileOffset: number
  line: number
  column: number
  /** Lint rules switched off for this statement by `-- dbops:lint-ignore`. */
  lintIgnore: Set<string>
}

export interface PreparedSection {
  statements: PreparedStatement[]
  /** Maps an offset in the substituted section text to line/column in the file. */
  locate(sectionOffset: number): { line: number; column: number }
  /** Rules ignored for the whole file (`-- dbops:lint-ignore-file`). */
  fileLintIgnore: Set<string>
}

const LINT_IGNORE = /--[ \t]*dbops:lint-ignore(-file)?[ \t]+([a-z0-9_,\- \t]+)/gi

/**
 * Substitutes placeholders and splits a section into statements with the PostgreSQL parser.
 * Throws MIGRATION_SYNTAX with `file:line:column` on a syntax error, before anything runs.
 */
export function prepareSection(file: MigrationFile, section: Section, placeholders: Readonly<Record<string, string>>): PreparedSection {
  const sub = substitutePlaceholders(section.text, placeholders)
  if (sub.unknown.length) {
    const first = sub.unknown[0]!
    const at = lineColumn(file.text, section.offset + first.offset)
    const names = [...new Set(sub.unknown.map((u) => u.name))]
    throw new DbopsError('MIGRATION_PLACEHOLDER_UNKNOWN', `${file.display}:${at.line}:${at.column}: placeholder ${names.map((n) => '${' + n + '}').join(', ')} has no value`, {
      hint: `Add ${names.map((n) => `${n}: '...'`).join(', ')} to the migrate plugin's \`placeholders\` option.`,
    })
  }
  const locate = (offset: number) => lineColumn(file.text, section.offset + sub.toOriginal(offset))
  let statements: Statement[]
  try {
    statements = splitStatements(sub.text)
  } catch (error) {
    if (!(error instanceof SqlSyntaxError)) throw error
    const at = locate(error.offset)
    throw new DbopsError('MIGRATION_SYNTAX', `${file.display}:${at.line}:${at.column}: ${error.message}`, {
      hint: 'Fix the SQL; nothing was applied from this file.',
    })
  }
  const ignores = [...section.text.matchAll(LINT_IGNORE)].map((m) => ({
    offset: m.index!,
    file: Boolean(m[1]),
    rules: m[2]!.split(/[\s,]+/).filter(Boolean),
  }))
  const fileLintIgnore = new Set(ignores.filter((i) => i.file).flatMap((i) => i.rules))
  let previousEnd = 0
  const prepared = statements.map((s) => {
    const lintIgnore = new Set(ignores.filter((i) => !i.file && i.offset >= previousEnd && i.offset < sub.toOriginal(s.start)).flatMap((i) => i.rules))
    previousEnd = sub.toOriginal(s.start + s.sql.length)
    const fileOffset = section.offset + sub.toOriginal(s.start)
    return { ...s, fileOffset, ...lineColumn(file.text, fileOffset), lintIgnore }
  })
  return { statements: prepared, locate, fileLintIgnore }
}

/** Why a statement cannot run inside a transaction block, or undefined when it can. */
export function needsNoTransaction(s: Statement): string | undefined {
  const n = s.node
  if (n.IndexStmt?.concurrent) return 'CREATE INDEX CONCURRENTLY'
  if (n.DropStmt?.concurrent) return 'DROP INDEX CONCURRENTLY'
  if (n.ReindexStmt && JSON.stringify(n.ReindexStmt.params ?? []).includes('"concurrently"')) return 'REINDEX CONCURRENTLY'
  if (n.VacuumStmt?.is_vacuumcmd) return 'VACUUM'
  if (n.CreatedbStmt) return 'CREATE DATABASE'
  if (n.DropdbStmt) return 'DROP DATABASE'
  if (n.CreateTableSpaceStmt) return 'CREATE TABLESPACE'
  if (n.DropTableSpaceStmt) return 'DROP TABLESPACE'
  if (n.AlterSystemStmt) return 'ALTER SYSTEM'
  if (n.CreateSubscriptionStmt) return 'CREATE SUBSCRIPTION'
  if (n.DropSubscriptionStmt) return 'DROP SUBSCRIPTION'
  if (n.AlterTableStmt?.cmds?.some((c: any) => c.AlterTableCmd?.def?.PartitionCmd?.concurrent)) return 'DETACH PARTITION CONCURRENTLY'
  return undefined
}

export function isTransactionControl(s: Statement): boolean {
  return Boolean(s.node.TransactionStmt)
}
