import { droppedNames, ref, rule, show, type Rule } from './define.ts'

/** Changes that break application versions still running during a rolling deploy. */
export const breakingRules: Rule[] = [
  rule(
    'ban-drop-table',
    'Dropping a table loses its data and breaks code still using it.',
    'Make sure no code uses it and a backup exists; rename it aside first if unsure.',
    ({ statement: s }) => {
      const d = s.node.DropStmt
      if (d?.removeType !== 'OBJECT_TABLE') return []
      const names = droppedNames(d.objects).map((parts) => parts.join('.'))
      return [
        { message: `table ${names.join(', ')} is dropped`, weigh: 'none', severity: 'warning' },
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
]
