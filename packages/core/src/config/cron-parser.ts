import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/**
 * cron-parser (with luxon, ~20 modules) loads at its first use: a config without schedules
 * never loads it. Required rather than imported: Node would otherwise scan its CommonJS
 * files for named exports before running them.
 */
export const cronParser = (): typeof import('cron-parser') =>
  require('cron-parser') as typeof import('cron-parser')
