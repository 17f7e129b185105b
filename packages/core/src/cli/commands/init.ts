import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { DbopsError } from '../../errors.ts'
import type { GlobalArgs } from '../args.ts'
import { takeFlag } from '../args.ts'
import { out } from '../output.ts'

export const initHelp = `dbops init [--force]

Writes a commented starter dbops.config.ts in the current directory. Refuses to overwrite
an existing one unless --force is given.`

export const STARTER_CONFIG = `// dbops config: connection, pool, storage, retention, pipelines and schedules.
// Reference: https://github.com/dbops/dbops#config-reference
import { defineConfig, env } from 'dbops'

export default defineConfig({
  // DATABASE_URL (and DATABASE_READ_REPLICA_URL) are read from the environment or .env.
  connection: { url: env('DATABASE_URL'), applicationName: 'dbops' },

  // Pool limits; DB_CONNECTION_LIMIT, DB_MAX_IDLE_TIME, DB_MAX_LIFE_TIME and
  // DB_QUERY_TIMEOUT fill these when left out.
  pool: { max: 20, idleTimeoutMs: 30_000, maxLifetimeMs: 1_800_000, queryTimeoutMs: 20_000 },

  // Where backups go. 'local' is a directory (BACKUP_DIR); add s3() from @dbops/storage-s3.
  storage: { local: { dir: './backups' } },

  // Plugins provide tasks: pgdump() from @dbops/backup-pgdump, migrate() from
  // @dbops/migrate-sql, health() from @dbops/health, reindex() from @dbops/reindex.
  plugins: [],

  // Named lists of tasks; \`dbops run <name>\` runs one.
  pipelines: {
    cleanup: ['retention:apply'],
  },

  // Keep backups 30 days (BACKUP_RETENTION_DAYS), never fewer than 3.
  retention: { maxAgeDays: 30, minKeep: 3 },

  // Cron schedules for \`dbops watch\`.
  schedules: {
    cleanup: { cron: '0 4 * * *', run: 'cleanup' },
  },
})
`

export async function initCommand(args: GlobalArgs): Promise<number> {
  const rest = [...args.rest]
  const force = takeFlag(rest, '--force')
  const file = path.resolve('dbops.config.ts')
  if (existsSync(file) && !force) {
    throw new DbopsError('INIT_EXISTS', `${file} already exists; not overwriting it`, { exitCode: 2, hint: 'Pass --force to replace it.' })
  }
  await writeFile(file, STARTER_CONFIG)
  out(`wrote ${file}`)
  out('next: set DATABASE_URL (or put it in .env), then run `dbops list` and `dbops run cleanup --dry-run`')
  return 0
}
