import { UsageError, closest, defineCommand, type Command } from 'dbops/plugin'
import { CHECK_IDS } from './checks/index.ts'
import { runHealth } from './engine.ts'
import type { HealthOptions } from './options.ts'
import { renderNagios } from './report/nagios.ts'
import { renderPrometheus, writeTextfile } from './report/prometheus.ts'
import { renderText } from './report/text.ts'
import { fails } from './summary.ts'
import path from 'node:path'

const FORMATS = ['text', 'json', 'nagios', 'prometheus'] as const

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
  return defineCommand({
    summary: 'run the health checks: text, json, nagios or prometheus',
    description: 'Runs the health checks against the configured database and prints a report.',
    flags: {
      format: {
        type: 'string',
        placeholder: FORMATS.join('|'),
        description: 'text (default), json (also --json), nagios (one line + perfdata), prometheus',
      },
      only: { type: 'string', placeholder: 'a,b', description: 'run only these checks' },
      skip: {
        type: 'string',
        multiple: true,
        aliases: ['exclude'],
        placeholder: 'c,d',
        description: 'leave these checks out (alias: --exclude)',
      },
      textfile: {
        type: 'string',
        placeholder: 'file',
        description:
          'also write the Prometheus exposition to <file> atomically (node_exporter textfile collector)',
      },
      failOn: {
        type: 'string',
        choices: ['critical', 'warning', 'never'],
        default: options.failOn,
        description: 'exit 1 at: critical, warning (warning or unknown too), never',
      },
      verbose: { type: 'boolean', description: 'list the objects of OK checks too (text)' },
    },
    notes: `Checks: ${CHECK_IDS.join(', ')}

Exit codes: 0 ok (warnings and unknowns included, unless --fail-on warning), 1 a check is
critical (or the database is unreachable), 2 bad arguments or config.
With --format nagios: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (worst status wins).`,
    run: async ({ flags }, ctx) => {
      const only = checkList(flags.only, '--only')
      const skip = flags.skip.flatMap((list) => checkList(list, '--skip') ?? [])
      const { textfile, failOn, verbose } = flags
      const wanted = flags.format ?? (ctx.json ? 'json' : 'text')
      const format = FORMATS.find((f) => f === wanted)
      if (!format)
        throw new UsageError(
          `--format: '${wanted}' is not a format (text, json, nagios, prometheus)`,
        )
      if (ctx.json && format !== 'json')
        throw new UsageError(`--json and --format ${format} contradict each other`)

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
  })
}
