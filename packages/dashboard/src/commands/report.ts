import { rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import {
  DbopsError,
  UsageError,
  formatBytes,
  defineCommand,
  type Command,
  collectSecrets,
} from 'dbops/plugin'
import { Collector } from '../collect/collector.ts'
import { parseSince, type DashboardOptions } from '../options.ts'
import { reportBundle } from '../report/bundle.ts'
import { renderReportHtml } from '../report/html.ts'

export function reportCommand(options: DashboardOptions): Command {
  return defineCommand({
    summary:
      'write the dashboard as one self-contained HTML file (evidence of backups and restores)',
    description: `Writes the dashboard's views as one self-contained HTML file (styles, scripts and data inline;
it loads nothing, so it opens offline, from a CI artifact, a mail or an audit ticket): health
now and over time, every backup set with its verifications and restore proofs, runs, migrations.`,
    flags: {
      html: {
        type: 'string',
        placeholder: 'file',
        required: true,
        description: 'where to write it (replaced atomically)',
      },
      since: {
        type: 'string',
        placeholder: 'd',
        default: '30d',
        description: 'how far back (12h, 90d)',
      },
    },
    examples: ['dbops report --html backups-report.html --since 30d'],
    notes: `Exit codes: 0 written; 1 written, but a source could not be read (the report says which);
2 bad arguments.`,
    async run({ flags }, ctx) {
      const { html: file, since } = flags
      try {
        parseSince(since)
      } catch (error) {
        throw new UsageError(`--since: ${(error as Error).message}`)
      }
      const collector = new Collector({
        config: ctx.config,
        logger: ctx.logger,
        secrets: collectSecrets(ctx.config),
        options,
        since,
      })
      try {
        await collector.refresh()
        const state = collector.state
        const { data, omitted } = reportBundle({ state, options, schedules: ctx.config.schedules })
        const generatedAt = new Date().toISOString()
        const html = renderReportHtml(data, {
          title: `dbops report: ${state.target}, ${generatedAt.slice(0, 10)}`,
          generatedAt,
          since: state.since.toISOString(),
        })
        const target = path.resolve(process.cwd(), file)
        const temp = `${target}.${process.pid}.tmp`
        await writeFile(temp, html, { mode: 0o644 })
        await rename(temp, target)
        const failed = [
          ...(state.sources.runs.error ? [`runs: ${state.sources.runs.error}`] : []),
          ...(state.sources.health.error ? [`health history: ${state.sources.health.error}`] : []),
          ...Object.entries(state.sources.backups)
            .filter(([, s]) => s.error)
            .map(([name, s]) => `backups in ${name}: ${s.error}`),
          ...(state.sources.migrations.error
            ? [`migrations: ${state.sources.migrations.error}`]
            : []),
        ]
        const sets = [...state.backups.values()].reduce((n, d) => n + d.sets.length, 0)
        const summary = {
          status: failed.length ? 'partial' : 'ok',
          file: target,
          bytes: Buffer.byteLength(html),
          since: state.since.toISOString(),
          sets,
          runs: state.runs.size,
          checks: state.health.now.length,
          omitted,
          unreadable: failed,
        }
        if (ctx.json) {
          ctx.printJson(summary)
          return failed.length ? 1 : 0
        } else {
          ctx.print(
            `report written to ${target} (${formatBytes(summary.bytes)}): ${sets} backup sets, ${state.runs.size} runs, ${state.health.now.length} health checks since ${state.since.toISOString().slice(0, 10)}`,
          )
          if (omitted.sets || omitted.runs)
            ctx.print(`  listed without a detail page: ${omitted.sets} sets, ${omitted.runs} runs`)
        }
        if (failed.length) {
          throw new DbopsError(
            'REPORT_PARTIAL',
            `the report was written, but part of it could not be read:\n  ${failed.join('\n  ')}`,
            {
              hint: 'The report says so on its first page; write it again once the database and storage answer.',
            },
          )
        }
        return 0
      } finally {
        await collector.close()
      }
    },
  })
}
