import { createRequire } from 'node:module'
import type pg from 'pg'

// pg (and its dozen modules) loads when the first pool or session opens: a command that never
// queries, such as `dbops list`, never pays for it.
const require = createRequire(import.meta.url)
let pgModule: typeof pg | undefined

export const loadPg = (): typeof pg => {
  pgModule ??= require('pg') as typeof pg
  return pgModule
}
