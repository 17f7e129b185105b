// The core commands: each one's declaration and, behind `import()`, its module. Dispatch,
// `dbops --help` and `dbops <command> --help` read this table; only running a command
// loads its module, so `dbops --help` and `dbops list` import no other command's code.
import type { Command, InputOf } from '../plugin/types.ts'
import type { Globals } from './declaration/global-flags.ts'
import type { ArgSpecs, FlagSpecs } from './declaration/types.ts'
import { BACKUP_DIR } from './commands/init-app.ts'

type None = Readonly<Record<never, never>>

/** A core command: declared as a plugin's, it receives the global flags (it opens its own session). */
function core<const F extends FlagSpecs = None, const A extends ArgSpecs = None>(
  command: Command<F, A, Globals>,
): Command<F, A, Globals> {
  return command
}

/** `dbops schedule export`: its own constant, so its module's input type can name it. */
export const SCHEDULE_EXPORT = core({
  summary: "print the config's schedules for a scheduler you already run",
  description: `Prints the config's schedules for a scheduler you already run, each tick running
\`dbops run <pipeline> --tag <tag>\` once (use this instead of \`dbops watch\`, not with it).

crontab: one line per schedule with CRON_TZ set to its time zone.
k8s:     one CronJob per schedule (concurrencyPolicy: Forbid, timeZone, backoffLimit 0).`,
  flags: {
    format: {
      type: 'string',
      choices: ['crontab', 'k8s'],
      required: true,
      description: 'the scheduler to write for',
    },
    command: {
      type: 'string',
      placeholder: 'cmd',
      default: 'dbops',
      description: 'crontab: how cron starts dbops, e.g. "npx dbops"',
    },
    cwd: {
      type: 'string',
      placeholder: 'dir',
      description: "crontab: the project directory (default: the config's directory)",
    },
    image: {
      type: 'string',
      placeholder: 'image',
      description: 'k8s (required): the container image that has dbops and the config',
    },
    secret: {
      type: 'string',
      multiple: true,
      placeholder: 'name',
      description:
        'k8s: a Secret whose keys become env vars (envFrom); keep DATABASE_URL and other secrets there, never in the manifest',
    },
    env: {
      type: 'string',
      multiple: true,
      placeholder: 'NAME=value',
      description: 'k8s: a plain env var',
    },
    namespace: { type: 'string', placeholder: 'ns', description: 'k8s: metadata.namespace' },
    namePrefix: {
      type: 'string',
      placeholder: 'p',
      default: 'dbops-',
      description: 'k8s: the CronJob name prefix',
    },
  },
  examples: ['dbops schedule export --format k8s --image registry.example/app:1.4'],
  notes: 'Six-field (per-second) schedules cannot be expressed and are left out with a warning.',
  run: async (input, globals): Promise<number> =>
    (await import('./commands/schedule.ts')).scheduleExport(input, globals),
})

export const CORE_COMMANDS = {
  run: core({
    summary: 'run pipelines or tasks once',
    description: 'Runs pipelines (or single tasks) from the config, in order.',
    args: {
      names: {
        placeholder: 'pipeline|task',
        required: true,
        variadic: true,
        missingHint:
          'Example: dbops run backup. `dbops list` shows the pipelines and tasks of this config.',
      },
    },
    flags: {
      tag: {
        type: 'string',
        multiple: true,
        placeholder: 'name',
        description: 'tag the run (recorded in backup manifests)',
      },
    },
    examples: ['dbops run backup', 'dbops run backup --tag weekly --timeout 30m'],
    notes:
      'Exit codes: 0 all steps succeeded, 1 a step failed, 2 usage or config error, 130 interrupted.',
    run: async (input, globals): Promise<number> =>
      (await import('./commands/run.ts')).runCommand(input, globals),
  }),
  watch: core({
    summary: 'run the schedules until stopped',
    description: `Runs the config's schedules until stopped. Each tick is claimed in the database (a small
\`dbops\` schema, created on first use), so any number of watchers on any number of machines
run each tick once; a schedule never runs over itself (overlap: skip | queue).`,
    flags: {
      metricsPort: {
        type: 'number',
        integer: true,
        min: 0,
        max: 65535,
        description: 'serve Prometheus metrics on :n/metrics and a health check on :n/healthz',
      },
      metricsHost: {
        type: 'string',
        placeholder: 'addr',
        description:
          'the address it binds (default: every address; 127.0.0.1 while a plugin surface is served)',
      },
      serve: {
        type: 'string',
        multiple: true,
        placeholder: 'surface',
        description:
          "also serve a plugin's HTTP surface on that server at :n/, e.g. dashboard (@dbops/dashboard); its port is the plugin's default without --metrics-port",
      },
      shutdownTimeout: {
        type: 'duration',
        default: '30s',
        description:
          'on SIGTERM/SIGINT, how long running runs may finish before they are aborted; the watcher then exits 0',
      },
      lease: {
        type: 'duration',
        default: '60s',
        min: '1s',
        description:
          'run lease: renewed while a run is alive; a run of a watcher that died is marked lost once its lease expired',
      },
      historyDays: {
        type: 'number',
        integer: true,
        min: 1,
        max: 36500,
        default: 90,
        description: 'keep this many days of run history',
      },
      logFormat: {
        type: 'string',
        choices: ['json', 'text'],
        description:
          'one JSON line per event (the default with --json or when stdout is not a TTY) or sentences',
      },
    },
    otherFlags: {
      placeholder: '--<surface>',
      description: 'the same as --serve <surface>: --dashboard',
    },
    notes: `Signals: SIGTERM/SIGINT stop gracefully (twice: abort at once); SIGHUP reloads the config —
a config that does not validate keeps the running one, runs in flight are not interrupted.

Exit codes: 0 stopped by a signal, 2 usage or config error.`,
    run: async (input, globals): Promise<number> =>
      (await import('./commands/watch.ts')).watchCommand(input, globals),
  }),
  runs: core({
    summary: 'recent scheduled runs from the database',
    description: `Lists recent scheduled runs from the database's run history (the \`dbops.runs\` table that
\`dbops watch\` writes): when each started and ended, its status (running, queued, success,
failed, aborted, lost), the host and pid of the watcher that ran it, and the error.
A run whose watcher died shows as lost once its lease expired.`,
    flags: {
      schedule: { type: 'string', placeholder: 'name', description: 'only this schedule' },
      limit: {
        type: 'number',
        integer: true,
        min: 1,
        max: 10_000,
        default: 20,
        description: 'how many runs',
      },
    },
    notes: 'With --json: one JSON document, { runs: [...] }.',
    run: async (input, globals): Promise<number> =>
      (await import('./commands/runs.ts')).runsCommand(input, globals),
  }),
  schedule: core({
    summary: 'export schedules as crontab lines or Kubernetes CronJobs',
    subcommands: {
      export: SCHEDULE_EXPORT,
    },
  }),
  list: core({
    summary: 'pipelines, tasks and schedules with next run times',
    description: `Lists the pipelines with their steps, every task the plugins provide, and each schedule
with its next run time in its time zone.`,
    run: async (_input, globals): Promise<number> =>
      (await import('./commands/list.ts')).listCommand(globals),
  }),
  config: core({
    summary: 'the resolved config, secrets redacted',
    description: `Prints the resolved config: defaults applied, env conventions filled in, every secret
redacted (passwords in URLs, keys, tokens). Validates it without connecting anywhere.`,
    run: async (_input, globals): Promise<number> =>
      (await import('./commands/config.ts')).configCommand(globals),
  }),
  init: core({
    summary: 'write a starter dbops.config.ts',
    description: `Writes a commented dbops.config.ts in the current directory, set up for the app it finds:
the @dbops/* plugins its package.json depends on (with backup, migrate, health and optimize
pipelines for them), Prisma migrations under prisma/ (Prisma's own ledger), an existing .env.
It offers to add the backup directory to .gitignore.`,
    flags: {
      force: { type: 'boolean', description: 'replace an existing dbops.config.ts' },
      yes: {
        type: 'boolean',
        short: 'y',
        description: `accept every offer without asking (add ${BACKUP_DIR}/ to .gitignore)`,
      },
    },
    run: async (input): Promise<number> => (await import('./commands/init.ts')).initCommand(input),
  }),
}

/** What a core command's module receives, typed by its declaration above. */
export type CoreInput<N extends keyof typeof CORE_COMMANDS> = InputOf<(typeof CORE_COMMANDS)[N]>
