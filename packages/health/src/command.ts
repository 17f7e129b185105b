import {
  UsageError,
  closest,
  takeFlag,
  takeOption,
  type Command,
  type CommandContext,
} from 'dbops/plugin'
import { CHECK_IDS } from './checks/index.ts'
import { runHealth } from './engine.ts'
import type { HealthOptions } from './options.ts'
import { renderNagios } from './report/nagios.ts'
import { renderPrometheus, writeTextfile } from './report/prometheus.ts'
import { renderText } from './report/text.ts'
import { fails } from './summary.ts'
import path from 'node:path'

const FORMATS = ['text', 'json', 'nagios', 'prometheus'] as const
type Format = (typeof FORMATS)[number]

export const HEALTH_HELP = `dbops health [--format text|json|nagios|prometheus] [--only a,b] [--skip c,d] [--textfile file] [--fail-on critical|warning|never] [--verbose]

Runs the health checks against the configured database and prints a report.

Options:
  --format <f>      text (default), json (also --json), nagios (one line + perfdata), prometheus
  --only <a,b>      run only these checks
  --skip <c,d>      leave these checks out (alias: --exclude)
  --textfile <f>    also write the Prometheus exposition to <f> atomically (node_exporter textfile collector)
  --fail-on <s>     exit 1 at: critical (default), warning (warning or unknown too), never
  --verbose         list the objects of OK checks too (text)

Checks: ${CHECK_IDS.join(', ')}

Exit codes: 0 ok (warnings and unknowns included, unless --fail-on warning), 1 a check is
critical (or the database is unreachable), 2 bad arguments or config.
With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (worst status wins).`

function checkList(value: string | undefined, flag: string): string[] | undefined {
  if (value === undefined) return undefined
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (!names.length) throw new UsageError(`${flag} needs at least one check name`)
  for (const name of names) {
    if (!CHECK_IDS.includes(name)) {
      const near = closest(name, CHECK_IDS)
      throw new UsageError(
        `${flag}: unknown check '${name}'${near ? `; did you mean '${near}'?` : ''}`,
        `Checks: ${CHECK_IDS.join(', ')}`,
      )
    }
  }
  return names
}

export function healthCommand(options: HealthOptions): Command {
  return {
    summary: 'run the health checks: text, json, nagios or prometheus',
    help: HEALTH_HELP,
    run: async (argv: string[], ctx: CommandContext) => {
      const args = [...argv]
      const formatArg = takeOption(args, '--format')
      const only = checkList(takeOption(args, '--only'), '--only')
      const skip = [
        ...(checkList(takeOption(args, '--skip'), '--skip') ?? []),
        ...(checkList(takeOption(args, '--exclude'), '--exclude') ?? []),
      ]
      const textfile = takeOption(args, '--textfile')
      const failOnArg = takeOption(args, '--fail-on')
      const verbose = takeFlag(args, '--verbose')
      if (args.length)
        throw new UsageError(
          `unexpected argument '${args[0]}'`,
          'Run `dbops health --help` for the options.',
        )
      const format: Format = (formatArg ?? (ctx.json ? 'json' : 'text')) as Format
      if (!FORMATS.includes(format))
        throw new UsageError(
          `--format: '${formatArg}' is not a format (text, json, nagios, prometheus)`,
        )
      if (ctx.json && format !== 'json')
        throw new UsageError(`--json and --format ${format} contradict each other`)
      if (failOnArg !== undefined && !['critical', 'warning', 'never'].includes(failOnArg))
        throw new UsageError(`--fail-on: '${failOnArg}' is not critical, warning or never`)
      const failOn = (failOnArg ?? options.failOn) as HealthOptions['failOn']

      const report = await runHealth(ctx, options, { ...(only ? { only } : {}), skip })
      const file = textfile ?? options.prometheus.textfile
      if (file)
        await writeTextfile(
          path.resolve(textfile ? process.cwd() : ctx.config.dir, file),
          renderPrometheus(report),
        )
      switch (format) {
        case 'json':
          ctx.printJson(report)
          break
        case 'nagios': {
          const { line, exitCode } = renderNagios(report)
          ctx.print(line)
          return exitCode
        }
        case 'prometheus':
          process.stdout.write(renderPrometheus(report))
          break
        default:
          ctx.print(renderText(report, { verbose }))
      }
      return fails(report.status, failOn) ? 1 : 0
    },
  }
}
