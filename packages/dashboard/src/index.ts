// @dbops/dashboard: a read-only web page and JSON API of backups, restore proofs, health over time and runs.
export { default } from './plugin.ts'
export {
  dashboardOptionsSchema,
  type DashboardOptions,
  type DashboardOptionsInput,
} from './options.ts'
export type {
  BackupRow,
  CheckNow,
  CheckSeries,
  RunRow,
  RunStep,
  Incomplete,
} from './collect/types.ts'
export { ENDPOINTS } from './server/app.ts'
