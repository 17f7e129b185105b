import { alterCmds, alteredTable, nodeOf, rule, show, type Rule } from './define.ts'

/** ALTER TABLE commands that scan or rewrite the table under a strong lock, or fail on rows. */
export const alterTableRules: Rule[] = [
  rule(
    'adding-required-field',
    'ADD COLUMN ... NOT NULL without a DEFAULT fails on a table that has rows, and breaks writers that do not set it.',
    'Add the column nullable (or with a DEFAULT), backfill, then add the constraint.',
    ({ statement: s }) => {
      const t = alteredTable(s.node)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_AddColumn')
        .flatMap((c) => {
          const column = nodeOf(c.def).ColumnDef
          const cons = (column?.constraints ?? []).map((k) => nodeOf(k).Constraint?.contype)
          const required =
            cons.includes('CONSTR_NOTNULL') &&
            !cons.includes('CONSTR_DEFAULT') &&
            !cons.includes('CONSTR_IDENTITY') &&
            !cons.includes('CONSTR_GENERATED')
          if (!required) return []
          return [
            {
              message: `column ${column?.colname} is added to ${show(t)} NOT NULL without a DEFAULT`,
              table: t,
              weigh: 'rows' as const,
              severity: 'error' as const,
            },
          ]
        })
    },
  ),
  rule(
    'constraint-missing-not-valid',
    'Adding a FOREIGN KEY or CHECK constraint validates every row while holding a lock that blocks writes.',
    'Add it NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in a later migration (a weaker lock).',
    ({ statement: s }) => {
      const t = alteredTable(s.node)
      return alterCmds(s.node).flatMap((c) => {
        const con = nodeOf(c.def).Constraint
        const validated =
          c.subtype === 'AT_AddConstraint' &&
          (con?.contype === 'CONSTR_FOREIGN' || con?.contype === 'CONSTR_CHECK') &&
          !con.skip_validation
        if (!validated) return []
        const what = con.contype === 'CONSTR_FOREIGN' ? 'foreign key' : 'check constraint'
        return [
          {
            message:
              `${what} ${con.conname ?? ''} is added to ${show(t)} without NOT VALID`.replace(
                '  ',
                ' ',
              ),
            table: t,
            weigh: 'size' as const,
            severity: 'warning' as const,
          },
        ]
      })
    },
  ),
  rule(
    'changing-column-type',
    'ALTER COLUMN ... TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (unless binary-coercible).',
    'Add a new column, backfill in batches, switch readers and writers, then drop the old one.',
    ({ statement: s }) => {
      const t = alteredTable(s.node)
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
      const t = alteredTable(s.node)
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
      const t = alteredTable(s.node)
      return alterCmds(s.node).flatMap((c) => {
        const con = nodeOf(c.def).Constraint
        const builds =
          c.subtype === 'AT_AddConstraint' &&
          (con?.contype === 'CONSTR_UNIQUE' || con?.contype === 'CONSTR_PRIMARY') &&
          !con.indexname
        if (!builds) return []
        return [
          {
            message: `a ${con.contype === 'CONSTR_UNIQUE' ? 'UNIQUE' : 'PRIMARY KEY'} constraint is added to ${show(t)} directly`,
            table: t,
            weigh: 'size' as const,
            severity: 'warning' as const,
          },
        ]
      })
    },
  ),
  rule(
    'ban-drop-column',
    'Dropping a column breaks application versions still reading it during a rolling deploy.',
    'Stop using the column in the code first, deploy, then drop it in a later migration.',
    ({ statement: s }) => {
      const t = alteredTable(s.node)
      return alterCmds(s.node)
        .filter((c) => c.subtype === 'AT_DropColumn')
        .map((c) => ({
          message: `column ${show(t)}.${c.name} is dropped`,
          weigh: 'none' as const,
          severity: 'warning' as const,
        }))
    },
  ),
]
