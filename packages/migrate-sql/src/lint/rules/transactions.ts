import { needsNoTransaction } from '../../sql/prepare.ts'
import { rule, type Rule } from './define.ts'

/** What cannot run in the transaction dbops wraps a file in. */
export const transactionRules: Rule[] = [
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
]

/** A lock-heavy statement queued behind a long transaction blocks everything behind it. */
export const requireLockTimeout = rule(
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
)
