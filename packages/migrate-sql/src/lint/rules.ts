import { alterTableRules } from './rules/alter-table.ts'
import { breakingRules } from './rules/breaking.ts'
import type { Rule } from './rules/define.ts'
import { indexRules } from './rules/indexes.ts'
import { requireLockTimeout, transactionRules } from './rules/transactions.ts'

/** Every lint rule, in the order findings of one statement are reported. */
export const RULES: Rule[] = [
  ...indexRules,
  ...transactionRules,
  ...alterTableRules,
  ...breakingRules,
  requireLockTimeout,
]
