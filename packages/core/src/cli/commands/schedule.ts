import { UsageError } from '../../errors.ts'
import { toCrontab, toK8s } from '../../scheduler/export.ts'
import { openSession } from '../../session.ts'
import type { GlobalArgs } from '../args.ts'
import { takeOption } from '../args.ts'
import { err } from '../output.ts'

export const scheduleHelp = `dbops schedule export --format crontab|k8s [options]

Prints the config's schedules for a scheduler you already run, each tick running
\`dbops run <pipeline> --tag <tag>\` once (use this instead of \`dbops watch\`, not with it).

crontab:  one line per schedule with CRON_TZ set to its time zone.
  --command <cmd>     how cron starts dbops (default: dbops; e.g. "npx dbops")
  --cwd <dir>         the project directory (default: the config's directory)

k8s:      one CronJob per schedule (concurrencyPolicy: Forbid, timeZone, backoffLimit 0).
  --image <image>     the container image that has dbops and the config (required)
  --secret <name>     a Secret whose keys become env vars (envFrom); repeatable — keep
                      DATABASE_URL and other secrets there, never in the manifest
  --env NAME=value    a plain env var; repeatable
  --namespace <ns>    metadata.namespace
  --name-prefix <p>   CronJob name prefix (default: dbops-)

Six-field (per-second) schedules cannot be expressed and are left out with a warning.`

export async function scheduleCommand(args: GlobalArgs): Promise<number> {
  const rest = [...args.rest]
  const sub = rest.shift()
  if (sub !== 'export')
    throw new UsageError(
      sub ? `unknown subcommand 'schedule ${sub}'` : 'dbops schedule needs a subcommand',
      'Use `dbops schedule export --format crontab|k8s`.',
    )
  const format = takeOption(rest, '--format')
  if (format !== 'crontab' && format !== 'k8s')
    throw new UsageError(`--format must be crontab or k8s${format ? `, not '${format}'` : ''}`)
  const command = takeOption(rest, '--command') ?? 'dbops'
  const cwd = takeOption(rest, '--cwd')
  const image = takeOption(rest, '--image')
  const namespace = takeOption(rest, '--namespace')
  const namePrefix = takeOption(rest, '--name-prefix') ?? 'dbops-'
  const secrets: string[] = []
  const env: string[] = []
  for (let v = takeOption(rest, '--secret'); v !== undefined; v = takeOption(rest, '--secret'))
    secrets.push(v)
  for (let v = takeOption(rest, '--env'); v !== undefined; v = takeOption(rest, '--env')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(v))
      throw new UsageError(`--env expects NAME=value, not '${v}'`)
    env.push(v)
  }
  if (rest.length > 0)
    throw new UsageError(`unexpected argument '${rest[0]}'`, 'See `dbops schedule --help`.')
  if (format === 'k8s' && !image)
    throw new UsageError(
      '--format k8s needs --image <image>',
      'The image must contain dbops and your dbops.config.ts.',
    )
  const session = await openSession({
    configFile: args.config,
    env: { command: 'schedule', dryRun: false },
  })
  try {
    const schedules = session.config.schedules
    if (Object.keys(schedules).length === 0)
      throw new UsageError('the config has no schedules to export')
    const result =
      format === 'crontab'
        ? toCrontab(schedules, { command, cwd: cwd ?? session.config.dir })
        : toK8s(schedules, { image: image!, namespace, secrets, env, namePrefix })
    process.stdout.write(result.text)
    for (const s of result.skipped) err(`warning: schedule '${s.name}' left out: ${s.reason}`)
    return 0
  } finally {
    await session.close()
  }
}
