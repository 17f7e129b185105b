import { UsageError } from '../../errors.ts'
import { toCrontab, toK8s } from '../../scheduler/export.ts'
import { openSession } from '../../session.ts'
import type { InputOf } from '../../plugin/types.ts'
import type { SCHEDULE_EXPORT } from '../core-commands.ts'
import type { Globals } from '../declaration/global-flags.ts'
import { err } from '../output.ts'

export async function scheduleExport(
  { flags }: InputOf<typeof SCHEDULE_EXPORT>,
  globals: Globals,
): Promise<number> {
  const { format, command, cwd, image, namespace, secret: secrets, namePrefix } = flags
  const badEnv = flags.env.find((v) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(v))
  if (badEnv !== undefined) throw new UsageError(`--env expects NAME=value, not '${badEnv}'`)
  if (format === 'k8s' && !image)
    throw new UsageError(
      '--format k8s needs --image <image>',
      'The image must contain dbops and your dbops.config.ts.',
    )
  const session = await openSession({
    configFile: globals.config,
    env: { command: 'schedule', dryRun: false },
  })
  try {
    const schedules = session.config.schedules
    if (Object.keys(schedules).length === 0)
      throw new UsageError('the config has no schedules to export')
    const result =
      format === 'crontab'
        ? toCrontab(schedules, { command, cwd: cwd ?? session.config.dir })
        : toK8s(schedules, { image: image!, namespace, secrets, env: flags.env, namePrefix })
    process.stdout.write(result.text)
    for (const s of result.skipped) err(`warning: schedule '${s.name}' left out: ${s.reason}`)
    return 0
  } finally {
    await session.close()
  }
}
