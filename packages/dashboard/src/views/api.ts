// The JSON of each `/api/...` endpoint, computed from what the collector last read; the
// server and the HTML report both call these.
export { backups, backupSet } from './backups.ts'
export { health, healthHistory } from './health.ts'
export { overview } from './overview.ts'
export { migrations } from './migrations.ts'
export { reindex, run, runs } from './runs.ts'
export type { ViewEnv } from './view-env.ts'
