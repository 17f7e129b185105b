import { needsNoTransaction, type PreparedStatement } from '../sql/prepare.ts'

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

const ref = (r: any): TableRef => ({ schema: r?.schemaname, name: r?.relname })
const show = (t: TableRef) => (t.schema ? `${t.schema}.${t.name}` : t.name)
const alterCmds = (n: any): any[] =>
  (n.AlterTableStmt?.objtype === 'OBJECT_TABLE' || n.AlterTableStmt
    ? (n.AlterTableStmt.cmds ?? [])
    : []
  )
    .map((c: any) => c.AlterTableCmd)
    .filter(Boolean)

function rule(
  name: string,
  summary: string,
  fix: string,
  detect: (ctx: RuleContext) => Array<Omit<RawFinding, 'rule' | 'fix'> & { fix?: string }>,
): Rule {
  return { name, summary, fix, check: (ctx) => detect(ctx).map((f) => ({ rule: name, fix, ...f })) }
}

export const RULES: Rule[] = [
  rule(
    'require-concurrent-index-creation',
    'CREATE INDEX without CONCURRENTLY blocks all writes to the table (SHARE lock) while the index builds.',
    'Use CREATE INDEX CONCURRENTLY in a file marked `-- dbops:no-transaction`.',
    ({ statement: s }) => {
      const i = s.node.IndexStmt
      if (!i || i.concurrent) return []
      const t = ref(i.relation)
      return [
        {
          message: `CREATE INDEX on ${show(t)} without CONCURRENTLY blocks writes to ${show(t)} while it builds`,
          table: t,
          weigh: 'size',
          severity: 'warning',
        },
      ]
    },
  ),
  rule(
    'require-named-concurrent-index',
    'An unnamed CREATE INDEX CONCURRENTLY that fails leaves an INVALID index under a generated name; the retry cannot recognise it and builds a second one (…_idx1) beside it.',
    'Name the index (CREATE INDEX CONCURRENTLY users_email_idx ON users (email)): dbops then drops an INVALID leftover of that name before it retries.',
    ({ statement: s }) => {
      const i = s.node.IndexStmt
      if (!i?.concurrent || i.idxname) return []
      return [
        {
          message: `CREATE INDEX CONCURRENTLY on ${show(ref(i.relation))} has no index name`,
          weigh: 'none',
          severity: 'warning',
        },
      ]
    },
  ),
  rule(
    'require-concurrent-index-deletion',
    'DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.',
    'Use DROP INDEX CONCURRENTLY in a file marked `-- dbops:no-transaction`.',
    ({ statement: s }) => {
      const d = s.node.DropStmt
      if (d?.removeType !== 'OBJECT_INDEX' || d.concurrent) return []
      return (d.objects ?? []).map((o: any) => {
        const parts = (o.List?.items ?? []).map((x: any) => x.String?.sval)
        const t: TableRef =
          parts.length > 1 ? { schema: parts[0], name: parts[1] } : { name: parts[0] }
        return {
          message: `DROP INDEX ${show(t)} without CONCURRENTLY locks its table against reads and writes`,
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }
      })
    },
  ),
  rule(
    'ban-concurrent-in-transaction',
    'CONCURRENTLY (and VACUUM, ALTER SYSTEM, ...) cannot run inside a transaction block; the file would fail.',
    'Add `-- dbops:no-transaction` to the file, and keep such statements in a file of their own.',
    ({ statement: s, transactional }) => {
      const why = transactional ? needsNoTransaction(s) : undefined
      return why
        ? [
            {
              message: `${why} cannot run inside the transaction dbops wraps this file in`,
              weigh: 'none',
              severity: 'error',
            },
          ]
        : []
    },
  ),
  rule(
    'transaction-nesting',
    'BEGIN/COMMIT/ROLLBACK inside a file dbops runs in a transaction breaks its atomicity and the ledger record.',
    'Remove the transaction statements: each file already runs in one transaction (or mark it `-- dbops:no-transaction`).',
    ({ statement: s, transactional }) =>
      transactional && s.node.TransactionStmt
        ? [
            {
              message: `${s.sql.split(/\s/)[0]!.toUpperCase()} inside a transactional migration file`,
              weigh: 'none',
              severity: 'error',
            },
          ]
        : [],
  ),
  rule(
    'adding-required-field',
    'ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows, and breaks writers that do not set it.',
    'Add the column nullable (or with a DEFAULT), backfill, then add the constraint.',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_AddColumn')
        .filter((c) => {
          const cons = (c.def?.ColumnDef?.constraints ?? []).map((k: any) => k.Constraint?.contype)
          return (
            cons.includes('CONSTR_NOTNULL') &&
            !cons.includes('CONSTR_DEFAULT') &&
            !cons.includes('CONSTR_IDENTITY') &&
            !cons.includes('CONSTR_GENERATED')
          )
        })
        .map((c) => ({
          message: `column ${c.def.ColumnDef.colname} is added to ${show(t)} NOT NULL without a DEFAULT`,
          table: t,
          weigh: 'rows' as const,
          severity: 'error' as const,
        }))
    },
  ),
  rule(
    'constraint-missing-not-valid',
    'Adding a FOREIGN KEY or CHECK constraint validates every row while holding a lock that blocks writes.',
    'Add it NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration (a weaker lock).',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter(
          (c) =>
            c.subtype === 'AT_AddConstraint' &&
            ['CONSTR_FOREIGN', 'CONSTR_CHECK'].includes(c.def?.Constraint?.contype) &&
            !c.def.Constraint.skip_validation,
        )
        .map((c) => ({
          message:
            `${c.def.Constraint.contype === 'CONSTR_FOREIGN' ? 'foreign key' : 'check constraint'} ${c.def.Constraint.conname ?? ''} is added to ${show(t)} without NOT VALID`.replace(
              '  ',
              ' ',
            ),
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }))
    },
  ),
  rule(
    'changing-column-type',
    'ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless binary-coercible).',
    'Add a new column, backfill in batches, switch readers and writers, then drop the old one.',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_AlterColumnType')
        .map((c) => ({
          message: `the type of ${show(t)}.${c.name} is changed`,
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }))
    },
  ),
  rule(
    'adding-not-nullable-field',
    'SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.',
    'Add CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT it, then SET NOT NULL (Postgres 12+ skips the scan).',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_SetNotNull')
        .map((c) => ({
          message: `${show(t)}.${c.name} is set NOT NULL`,
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }))
    },
  ),
  rule(
    'disallowed-unique-constraint',
    'ADD UNIQUE / PRIMARY KEY builds the index under an ACCESS EXCLUSIVE lock.',
    'CREATE UNIQUE INDEX CONCURRENTLY first, then ADD CONSTRAINT ... UNIQUE USING INDEX.',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter(
          (c) =>
            c.subtype === 'AT_AddConstraint' &&
            ['CONSTR_UNIQUE', 'CONSTR_PRIMARY'].includes(c.def?.Constraint?.contype) &&
            !c.def.Constraint.indexname,
        )
        .map((c) => ({
          message: `a ${c.def.Constraint.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY'} constraint is added to ${show(t)} directly`,
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }))
    },
  ),
  rule(
    'ban-drop-column',
    'Dropping a column breaks application versions still reading it during a rolling deploy.',
    'Stop using the column in the code first, deploy, then drop it in a later migration.',
    ({ statement: s }) => {
      const t = ref(s.node.AlterTableStmt?.relation)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_DropColumn')
        .map((c) => ({
          message: `column ${show(t)}.${c.name} is dropped`,
          weigh: 'none' as const,
          severity: 'warning' as const,
        }))
    },
  ),
  rule(
    'ban-drop-table',
    'Dropping a table loses its data and breaks code still using it.',
    'Make sure no code uses it and a backup exists; rename it aside first if unsure.',
    ({ statement: s }) => {
      const d = s.node.DropStmt
      if (d?.removeType !== 'OBJECT_TABLE') return []
      return [
        {
          message: `table ${(d.objects ?? []).map((o: any) => (o.List?.items ?? []).map((x: any) => x.String?.sval).join('.')).join(', ')} is dropped`,
          weigh: 'none',
          severity: 'warning',
        },
      ]
    },
  ),
  rule(
    'renaming-column',
    'Renaming a column breaks application versions still using the old name.',
    'Add the new column, write both, backfill, switch reads, then drop the old one.',
    ({ statement: s }) => {
      const r = s.node.RenameStmt
      return r?.renameType === 'OBJECT_COLUMN'
        ? [
            {
              message: `column ${show(ref(r.relation))}.${r.subname} is renamed to ${r.newname}`,
              weigh: 'none',
              severity: 'warning',
            },
          ]
        : []
    },
  ),
  rule(
    'renaming-table',
    'Renaming a table breaks application versions still using the old name.',
    'Create a view with the old name during the transition, or migrate readers first.',
    ({ statement: s }) => {
      const r = s.node.RenameStmt
      return r?.renameType === 'OBJECT_TABLE'
        ? [
            {
              message: `table ${show(ref(r.relation))} is renamed to ${r.newname}`,
              weigh: 'none',
              severity: 'warning',
            },
          ]
        : []
    },
  ),
  rule(
    'require-lock-timeout',
    'A lock-heavy statement without lock_timeout queues behind a long transaction and blocks every query behind it.',
    "Keep the migrate plugin's lockTimeout (default 5s), or SET lock_timeout at the top of the file.",
    ({ statement: s, lockTimeoutSet }) => {
      if (lockTimeoutSet) return []
      const heavy =
        s.node.AlterTableStmt ||
        (s.node.IndexStmt && !s.node.IndexStmt.concurrent) ||
        s.node.DropStmt ||
        s.node.RenameStmt
      return heavy
        ? [
            {
              message: `${s.type.replace(/Stmt$/, '')} runs without a lock_timeout`,
              weigh: 'none',
              severity: 'warning',
            },
          ]
        : []
    },
  ),
]
