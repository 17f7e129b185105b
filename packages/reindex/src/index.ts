// @dbops/reindex: find bloated btree indexes, rebuild them online, keep statistics fresh.
import { definePlugin } from 'dbops/plugin'
import { reindexCommand } from './command.ts'
import { reindexOptionsSchema } from './options.ts'
import { reindexTasks } from './tasks.ts'

/**
 * `reindex()` in a config adds the tasks `reindex:plan`, `reindex:apply` and
 * `reindex:analyze` and the command `dbops reindex plan|apply|analyze`.
 */
export default definePlugin({
  name: '@dbops/reindex',
  namespace: 'reindex',
  options: reindexOptionsSchema,
  setup: (options) => ({
    tasks: reindexTasks(options),
    commands: { reindex: reindexCommand(options) },
  }),
})

export { reindexOptionsSchema, type ReindexOptions, type ReindexOptionsInput } from './options.ts'
export { planReindex, type ReindexPlan } from './plan.ts'
export { excludedBy, type IndexDecision } from './decide.ts'
export { applyReindex, type ApplyResult } from './apply.ts'
export { analyzeTables, tablesToMaintain, type AnalyzeResult } from './analyze.ts'
export { estimateIndexBloat, measuredIndexBloat, type BloatFigures } from 'dbops/plugin'
export { estimateIndex, listIndexesSql, type IndexEstimate, type IndexRow } from 'dbops/plugin'
export { leftoverOf, classifyInvalid, type InvalidIndex } from './leftovers.ts'
export { versionRefusal, type Refusal } from './preflight.ts'
export { outsideWindow, type MaintenanceWindow } from './window.ts'
export type { RebuildOutcome } from './rebuild.ts'
export { parseBytes } from './units.ts'
export { formatBytes } from 'dbops/plugin'
