import { DbopsError, definePlugin, type Task } from 'dbops/plugin'
import path from 'node:path'
import { healthCommand } from './command.ts'
import { recordHistory } from './history/task-hook.ts'
import { runHealth } from './engine.ts'
import { healthOptionsSchema } from './options.ts'
import { renderPrometheus, writeTextfile } from './report/prometheus.ts'
import { fails, summarizeReport } from './summary.ts'
import type { HealthReport } from './types.ts'

/**
 * `@dbops/health`: the check catalog as the `health:check` task (its result is the report)
 * and the `dbops health` command (text, json, nagios, prometheus).
 */
export default definePlugin({
  name: '@dbops/health',
  namespace: 'health',
  options: healthOptionsSchema,
  setup: (options, api) => {
    const check: Task<HealthReport> = {
      title: 'health checks',
      run: async (ctx, io) => {
        io.output('running the health checks…')
        const report = await runHealth(ctx, options)
        if (options.prometheus.textfile)
          await writeTextfile(
            path.resolve(api.configDir, options.prometheus.textfile),
            renderPrometheus(report),
          )
        const unrecorded = await recordHistory(ctx, report, options.history)
        const historyLine = unrecorded ? `\n  history not recorded: ${unrecorded}` : ''
        if (fails(report.status, options.failOn)) {
          const bad = report.checks.filter(
            (r) =>
              r.status === 'critical' ||
              (options.failOn === 'warning' && r.status !== 'ok' && r.status !== 'skipped'),
          )
          const error = new DbopsError(
            'HEALTH_CRITICAL',
            `health: ${summarizeReport(report)}\n${bad.map((r) => `  ${r.status.toUpperCase()} ${r.check}: ${r.message}`).join('\n')}${historyLine}`,
            {
              hint: 'Run `dbops health` for the objects concerned and a hint for each check.',
            },
          )
          // The run report keeps the whole health report as the failed step's result.
          throw Object.assign(error, { result: report })
        }
        if (unrecorded) {
          const error = new DbopsError(
            'HEALTH_HISTORY_FAILED',
            `health: ${summarizeReport(report)}, but the results could not be recorded in the history: ${unrecorded}`,
            {
              hint: 'The role needs CREATE on the database (for the dbops schema) or a writable history.url; set history: false in the health options to record nothing.',
            },
          )
          throw Object.assign(error, { result: report })
        }
        return report
      },
      summarize: summarizeReport,
    }
    return { tasks: { check }, commands: { health: healthCommand(options) } }
  },
})
