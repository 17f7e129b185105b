import type { AppFacts, KnownPlugin } from './init-app.ts'
import { BACKUP_DIR } from './init-app.ts'

/** One plugin as `dbops init` writes it: its import, its factory call and what it adds. */
interface PluginBlock {
  imports: string
  call?: string
  comment?: string
}

function pluginBlocks(app: AppFacts): Partial<Record<KnownPlugin, PluginBlock>> {
  const { dir, ledger } = app.migrations
  return {
    '@dbops/backup-pgdump': {
      imports: "import pgdump from '@dbops/backup-pgdump'",
      comment:
        '// pg_dump custom format, compressed, age-encrypted when BACKUP_AGE_RECIPIENT is set\n    // (restores then need DBOPS_AGE_IDENTITY or DBOPS_AGE_IDENTITY_FILE), verified after each dump.',
      call: "pgdump({ format: 'custom', ...(ageRecipient ? { encryption: { recipients: [ageRecipient] } } : {}), verify: { level: 'archive' } })",
    },
    '@dbops/storage-s3': { imports: "import s3 from '@dbops/storage-s3'" },
    '@dbops/migrate-sql': {
      imports: "import migrate from '@dbops/migrate-sql'",
      comment:
        ledger === 'prisma'
          ? "// The Prisma migrations, recorded in Prisma's own _prisma_migrations."
          : '// Plain .sql files, applied in order (`dbops migrate new <name>` writes one).',
      call:
        ledger === 'prisma'
          ? `migrate({ dir: '${dir}', ledger: 'prisma' })`
          : `migrate({ dir: '${dir}' })`,
    },
    '@dbops/health': { imports: "import health from '@dbops/health'", call: 'health()' },
    '@dbops/reindex': {
      imports: "import reindex from '@dbops/reindex'",
      comment: '// Rebuilds bloated indexes online (REINDEX CONCURRENTLY).',
      call: 'reindex()',
    },
  }
}

/** The pipelines `dbops init` writes for the installed plugins, in the order it lists them. */
export function pipelinesFor(plugins: Set<KnownPlugin>): Record<string, string[]> {
  const backup = plugins.has('@dbops/backup-pgdump')
  return {
    ...(backup ? { backup: ['pgdump:dump', 'pgdump:verify', 'retention:apply'] } : {}),
    // "Always back up before migrating": the migration runs only if the backup did.
    ...(plugins.has('@dbops/migrate-sql')
      ? { migrate: backup ? ['backup', 'migrate:apply'] : ['migrate:apply'] }
      : {}),
    ...(plugins.has('@dbops/health') ? { health: ['health:check'] } : {}),
    ...(plugins.has('@dbops/reindex')
      ? { optimize: ['reindex:plan', 'reindex:apply', 'reindex:analyze'] }
      : {}),
    cleanup: ['retention:apply'],
  }
}

const SCHEDULES: Record<string, { pipeline: string; line: string }> = {
  daily: {
    pipeline: 'backup',
    line: "daily: { cron: '0 2 * * *', run: 'backup', tags: ['daily'] },",
  },
  health: { pipeline: 'health', line: "health: { cron: '0 */6 * * *', run: 'health' }," },
  optimize: { pipeline: 'optimize', line: "optimize: { cron: '0 1 * * 6', run: 'optimize' }," },
  cleanup: { pipeline: 'cleanup', line: "cleanup: { cron: '0 4 * * *', run: 'cleanup' }," },
}

const quoteList = (steps: string[]) => `[${steps.map((s) => `'${s}'`).join(', ')}]`

/** The text of the `dbops.config.ts` that `dbops init` writes for this app. */
export function starterConfig(app: AppFacts): string {
  const blocks = pluginBlocks(app)
  const installed = [...app.plugins].map((name) => blocks[name]!).filter(Boolean)
  const hasS3 = app.plugins.has('@dbops/storage-s3')
  const hasPgdump = app.plugins.has('@dbops/backup-pgdump')
  const pipelines = pipelinesFor(app.plugins)
  const calls = installed
    .filter((b) => b.call)
    .map((b) => (b.comment ? `    ${b.comment}\n    ${b.call},` : `    ${b.call},`))
  const storage = hasS3
    ? `{\n    local: { dir: './${BACKUP_DIR}' },\n    // The offsite copy when BACKUP_S3_BUCKET is set; credentials come from the standard AWS chain.\n    ...(s3Bucket ? { offsite: s3({ bucket: s3Bucket, prefix: 'database-backups/' }) } : {}),\n  }`
    : `{ local: { dir: './${BACKUP_DIR}' } }`
  const consts = [
    ...(hasPgdump ? ["const ageRecipient = env.optional('BACKUP_AGE_RECIPIENT')"] : []),
    ...(hasS3 ? ["const s3Bucket = env.optional('BACKUP_S3_BUCKET')"] : []),
  ]
  const schedules = Object.values(SCHEDULES).filter(
    (s) => pipelines[s.pipeline] && (s.pipeline !== 'cleanup' || !hasPgdump),
  )
  return `// dbops config: connection, pool, storage, retention, pipelines and schedules.
// Reference: node_modules/dbops/README.md, or \`npx dbops <command> --help\`.
import { defineConfig, env } from 'dbops'
${installed.map((b) => b.imports).join('\n')}${installed.length ? '\n' : ''}
${consts.length ? `${consts.join('\n')}\n\n` : ''}export default defineConfig({
  // DATABASE_URL (and DATABASE_READ_REPLICA_URL) are read from the environment or .env.
  connection: { url: env('DATABASE_URL'), applicationName: 'dbops' },

  // Pool limits; DB_CONNECTION_LIMIT, DB_MAX_IDLE_TIME, DB_MAX_LIFE_TIME and
  // DB_QUERY_TIMEOUT fill these when left out.
  pool: { max: 20, idleTimeoutMs: 30_000, maxLifetimeMs: 1_800_000, queryTimeoutMs: 20_000 },

  // Where backups go: every destination gets each backup. 'local' is a directory (BACKUP_DIR).
  storage: ${storage},

  // Plugins provide tasks; \`npx dbops list\` shows them.${missingPluginsNote(app)}
  plugins: [${calls.length ? `\n${calls.join('\n')}\n  ` : ''}],

  // Named lists of tasks; \`npx dbops run <name>\` runs one.
  pipelines: {
${Object.entries(pipelines)
  .map(([name, steps]) => `    ${name}: ${quoteList(steps)},`)
  .join('\n')}
  },

  // Keep backups 30 days (BACKUP_RETENTION_DAYS), but never fewer than 3 sets and never
  // the newest verified one.
  retention: { maxAgeDays: 30, minKeep: 3 },

  // Cron schedules for \`npx dbops watch\`.
  schedules: {
${schedules.map((s) => `    ${s.line}`).join('\n')}
  },
})
`
}

function missingPluginsNote(app: AppFacts): string {
  const missing = (
    ['@dbops/backup-pgdump', '@dbops/migrate-sql', '@dbops/health', '@dbops/reindex'] as const
  ).filter((p) => !app.plugins.has(p))
  return missing.length
    ? `\n  // Not installed: ${missing.join(', ')} (\`npm i -D <name>\`, then \`dbops init --force\`).`
    : ''
}

/** The commands `dbops init` tells the user to run next: the README's quick start. */
export function nextCommands(app: AppFacts): string[] {
  const first = app.plugins.has('@dbops/backup-pgdump') ? 'backup' : 'cleanup'
  return ['npx dbops list', `npx dbops run ${first} --dry-run`, `npx dbops run ${first}`]
}
