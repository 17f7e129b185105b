import { definePlugin } from 'dbops/plugin'
import { dashboardCommand } from './commands/dashboard.ts'
import { reportCommand } from './commands/report.ts'
import { dashboardOptionsSchema, type DashboardOptions } from './options.ts'
import { watchSurface } from './server/watch-surface.ts'

/**
 * `@dbops/dashboard`: `dbops dashboard` (a read-only web page and its JSON API),
 * `dbops report --html` (the same views in one file) and the `--dashboard` surface of
 * `dbops watch`. It reads what the other parts record; it adds no task and writes nothing.
 */
export default definePlugin({
  name: '@dbops/dashboard',
  namespace: 'dashboard',
  options: dashboardOptionsSchema,
  setup: (options: DashboardOptions) => ({
    tasks: {},
    commands: { dashboard: dashboardCommand(options), report: reportCommand(options) },
    http: { dashboard: watchSurface(options) },
  }),
})
