import type { AlterTableCmd, Node, RangeVar } from 'libpg-query'
import type { AnyNode } from '../../sql/nodes.ts'
import type { PreparedStatement } from '../../sql/prepare.ts'

export type Severity = 'error' | 'warning' | 'info'

export interface TableRef {
  schema?: string
  name: string
}

/** What a rule sees of a statement and the run around it. */
export interface RuleContext {
  statement: PreparedStatement
  transactional: boolean
  /** The runner sets lock_timeout for every file (option lockTimeout > 0), or the file does. */
  lockTimeoutSet: boolean
}

/** A rule's raw finding, before table sizes weigh it. */
export interface RawFinding {
  rule: string
  message: string
  fix: string
  /** The table whose size decides the severity (lock held for a scan or rewrite of it). */
  table?: TableRef
  /** `rows`: the statement fails on a non-empty table, whatever its size. */
  weigh: 'size' | 'rows' | 'none'
  severity: Severity
}

export interface Rule {
  name: string
  /** One sentence: what goes wrong. */
  summary: string
  /** The safe alternative. */
  fix: string
  check(ctx: RuleContext): RawFinding[]
}

type Detected = Omit<RawFinding, 'rule' | 'fix'> & { fix?: string }

/** A rule from its name, its two sentences and what it detects. */
export function rule(
  name: string,
  summary: string,
  fix: string,
  detect: (ctx: RuleContext) => Detected[],
): Rule {
  return { name, summary, fix, check: (ctx) => detect(ctx).map((f) => ({ rule: name, fix, ...f })) }
}

/** A child node of the tree (`def`, an item of a list) with every kind optional. */
export const nodeOf = (n: Node | undefined): AnyNode => n ?? {}

export const ref = (r: RangeVar | undefined): TableRef => ({
  schema: r?.schemaname,
  name: r?.relname ?? '',
})

export const show = (t: TableRef) => (t.schema ? `${t.schema}.${t.name}` : t.name)

/** The commands of an ALTER TABLE statement. */
export const alterCmds = (n: AnyNode): AlterTableCmd[] =>
  (n.AlterTableStmt?.cmds ?? []).flatMap((c) => {
    const cmd = nodeOf(c).AlterTableCmd
    return cmd ? [cmd] : []
  })

/** The table ALTER TABLE works on. */
export const alteredTable = (n: AnyNode): TableRef => ref(n.AlterTableStmt?.relation)

/** `a.b` names of a DROP's objects, as lists of parts. */
export const droppedNames = (objects: Node[] | undefined): string[][] =>
  (objects ?? []).map((o) => (nodeOf(o).List?.items ?? []).map((x) => nodeOf(x).String?.sval ?? ''))
