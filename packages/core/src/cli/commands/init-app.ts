import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

/** The dbops plugin packages `dbops init` knows how to configure. */
export const KNOWN_PLUGINS = [
  '@dbops/backup-pgdump',
  '@dbops/storage-s3',
  '@dbops/migrate-sql',
  '@dbops/health',
  '@dbops/reindex',
] as const
export type KnownPlugin = (typeof KNOWN_PLUGINS)[number]

/** What `dbops init` reads off the app it is run in, before writing anything. */
export interface AppFacts {
  dir: string
  /** The @dbops/* packages the app's package.json depends on. */
  plugins: Set<KnownPlugin>
  /** Where the app's migrations live and whose ledger they follow. */
  migrations: { dir: string; ledger: 'dbops' | 'prisma' }
  /** `.env` exists; whether it sets DATABASE_URL. */
  dotenv: { exists: boolean; hasDatabaseUrl: boolean }
  /** `.gitignore` exists; whether it already ignores the backup directory. */
  gitignore: { exists: boolean; ignoresBackups: boolean }
}

export const BACKUP_DIR = 'backups'

export function readAppFacts(dir: string): AppFacts {
  return {
    dir,
    plugins: declaredPlugins(dir),
    migrations: migrationsOf(dir),
    dotenv: dotenvOf(dir),
    gitignore: gitignoreOf(dir),
  }
}

function declaredPlugins(dir: string): Set<KnownPlugin> {
  const file = path.join(dir, 'package.json')
  if (!existsSync(file)) return new Set()
  let pkg: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }
  try {
    pkg = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return new Set()
  }
  const names = new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ])
  return new Set(KNOWN_PLUGINS.filter((name) => names.has(name)))
}

// Prisma keeps its migrations in prisma/migrations and its own ledger, _prisma_migrations.
function migrationsOf(dir: string): AppFacts['migrations'] {
  if (
    existsSync(path.join(dir, 'prisma', 'migrations')) ||
    existsSync(path.join(dir, 'prisma', 'schema.prisma'))
  ) {
    return { dir: './prisma/migrations', ledger: 'prisma' }
  }
  return { dir: './migrations', ledger: 'dbops' }
}

function dotenvOf(dir: string): AppFacts['dotenv'] {
  const file = path.join(dir, '.env')
  if (!existsSync(file)) return { exists: false, hasDatabaseUrl: false }
  return {
    exists: true,
    hasDatabaseUrl: /^\s*(export\s+)?DATABASE_URL\s*=/m.test(readFileSync(file, 'utf8')),
  }
}

function gitignoreOf(dir: string): AppFacts['gitignore'] {
  const file = path.join(dir, '.gitignore')
  if (!existsSync(file)) return { exists: false, ignoresBackups: false }
  const lines = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
  return {
    exists: true,
    ignoresBackups: lines.some((l) =>
      [BACKUP_DIR, `${BACKUP_DIR}/`, `/${BACKUP_DIR}`, `/${BACKUP_DIR}/`].includes(l),
    ),
  }
}
