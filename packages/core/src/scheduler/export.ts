import type { ScheduleConfig } from '../config/schema.ts'

/**
 * `dbops schedule export`: the schedules as crontab lines or Kubernetes CronJobs, for teams
 * that run `dbops run` one-shot on a scheduler they already have instead of `dbops watch`.
 * Neither has a seconds field, so six-field schedules are left out with a reason.
 */

export interface ExportResult {
  text: string
  /** Schedules that cannot be expressed, with why. */
  skipped: { name: string; reason: string }[]
}

function runArgs(s: ScheduleConfig): string[] {
  return ['run', ...[s.run].flat(), ...s.tags.flatMap((t) => ['--tag', t])]
}

function unsupported(s: ScheduleConfig): string | undefined {
  if (s.cron.trim().split(/\s+/).length === 6)
    return `its cron '${s.cron}' has a seconds field, which neither crontab nor Kubernetes supports; run it with dbops watch`
  return undefined
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

export function toCrontab(
  schedules: Record<string, ScheduleConfig>,
  options: { command: string; cwd: string },
): ExportResult {
  const lines = [
    '# dbops schedules (dbops schedule export --format crontab)',
    '# Each line runs one schedule once; make sure the environment (DATABASE_URL, ...) is set for cron.',
  ]
  const skipped: ExportResult['skipped'] = []
  for (const [name, s] of Object.entries(schedules)) {
    const reason = unsupported(s)
    if (reason) {
      skipped.push({ name, reason })
      lines.push(`# ${name}: skipped: ${reason}`)
      continue
    }
    lines.push(`# ${name}`)
    // CRON_TZ applies to the lines after it (cronie, systemd-cron); reset it to keep lines independent.
    lines.push(`CRON_TZ=${s.timezone ?? 'UTC'}`)
    const command = `cd ${shellQuote(options.cwd)} && ${options.command} ${runArgs(s).map(shellQuote).join(' ')}`
    lines.push(`${s.cron.trim()} ${command.replace(/%/g, '\\%')}`)
  }
  return { text: `${lines.join('\n')}\n`, skipped }
}

export interface K8sOptions {
  image: string
  namespace?: string
  /** Secrets whose keys become the container's environment (envFrom secretRef). */
  secrets: string[]
  /** Plain environment variables NAME=value. */
  env: string[]
  namePrefix: string
}

/** One CronJob per schedule, as a multi-document YAML stream. Strings are JSON-quoted (valid YAML). */
export function toK8s(
  schedules: Record<string, ScheduleConfig>,
  options: K8sOptions,
): ExportResult {
  const q = (v: string) => JSON.stringify(v)
  const docs: string[] = []
  const skipped: ExportResult['skipped'] = []
  for (const [name, s] of Object.entries(schedules)) {
    const reason = unsupported(s)
    if (reason) {
      skipped.push({ name, reason })
      continue
    }
    const jobName = `${options.namePrefix}${name}`
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 52)
    const env = options.env.map((pair) => {
      const i = pair.indexOf('=')
      return `                - name: ${q(pair.slice(0, i))}\n                  value: ${q(pair.slice(i + 1))}`
    })
    const lines = [
      'apiVersion: batch/v1',
      'kind: CronJob',
      'metadata:',
      `  name: ${q(jobName)}`,
      ...(options.namespace ? [`  namespace: ${q(options.namespace)}`] : []),
      '  labels:',
      '    app.kubernetes.io/name: dbops',
      `    dbops.dev/schedule: ${q(name)}`,
      'spec:',
      `  schedule: ${q(s.cron.trim())}`,
      ...(s.timezone ? [`  timeZone: ${q(s.timezone)}`] : []),
      '  concurrencyPolicy: Forbid',
      // catchUp none: a tick missed by more than a minute is dropped; latest: Kubernetes runs the latest missed one.
      ...(s.catchUp === 'none' ? ['  startingDeadlineSeconds: 60'] : []),
      '  successfulJobsHistoryLimit: 3',
      '  failedJobsHistoryLimit: 3',
      '  jobTemplate:',
      '    spec:',
      '      backoffLimit: 0',
      '      template:',
      '        metadata:',
      '          labels:',
      '            app.kubernetes.io/name: dbops',
      `            dbops.dev/schedule: ${q(name)}`,
      '        spec:',
      '          restartPolicy: Never',
      '          containers:',
      '            - name: dbops',
      `              image: ${q(options.image)}`,
      `              args: [${runArgs(s).map(q).join(', ')}]`,
      ...(options.secrets.length
        ? [
            '              envFrom:',
            ...options.secrets.map(
              (secret) => `                - secretRef:\n                    name: ${q(secret)}`,
            ),
          ]
        : []),
      ...(env.length ? ['              env:', ...env] : []),
    ]
    docs.push(`# dbops schedule '${name}'\n${lines.join('\n')}\n`)
  }
  return { text: docs.join('---\n'), skipped }
}
