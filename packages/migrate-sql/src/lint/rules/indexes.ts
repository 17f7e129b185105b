import { droppedNames, ref, rule, show, type Rule, type TableRef } from './define.ts'

/** CREATE and DROP INDEX: the locks they take, and the name a retry needs. */
export const indexRules: Rule[] = [
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
      return droppedNames(d.objects).map((parts) => {
        const t: TableRef =
          parts.length > 1 ? { schema: parts[0], name: parts[1]! } : { name: parts[0]! }
        return {
          message: `DROP INDEX ${show(t)} without CONCURRENTLY locks its table against reads and writes`,
          table: t,
          weigh: 'size' as const,
          severity: 'warning' as const,
        }
      })
    },
  ),
]
