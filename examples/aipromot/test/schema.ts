/**
 * Test helpers for the aipromot example: apply either schema route the way the app team
 * did before dbops (pg for Prisma's migration.sql files, psql for the manual script), and
 * describe a database's schema so that two routes can be compared.
 */
import { execFile } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

export const EXAMPLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const PRISMA_MIGRATIONS = path.join(EXAMPLE_DIR, 'prisma/migrations')
export const MANUAL_SCRIPT = path.join(
  EXAMPLE_DIR,
  'migrations/manual_add_email_verification_and_optimize_indexes.sql',
)

/** The indexes the app team's notes list, plus the partial ones for boolean filters. */
export const NAMED_INDEXES = [
  'users_emailVerificationToken_idx',
  'users_verified_idx',
  'users_role_idx',
  'users_plan_idx',
  'users_email_verified_idx',
  'content_pieces_organizationId_status_idx',
  'content_pieces_platform_publishedAt_idx',
  'scheduled_posts_organizationId_scheduledAt_idx',
  'analytics_organizationId_collectedAt_idx',
  'analytics_platform_metricType_idx',
]
export const PARTIAL_INDEXES = [
  'users_unverified_emailVerificationExpiry_idx',
  'scheduled_posts_unpublished_scheduledAt_idx',
]

interface Queryable {
  query(sql: string, params?: unknown[]): Promise<{ rows: any[] }>
}

/** Prisma's migration folders in the order `prisma migrate deploy` applies them. */
export async function prismaMigrationDirs(): Promise<string[]> {
  const entries = await readdir(PRISMA_MIGRATIONS, { withFileTypes: true })
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
}

/** Runs migration.sql files as Prisma's older engines did: one script, one message. */
export async function applyPrismaMigrations(
  db: Queryable,
  options: { only?: string[] } = {},
): Promise<string[]> {
  const applied: string[] = []
  for (const dir of await prismaMigrationDirs()) {
    if (options.only && !options.only.some((o) => dir.endsWith(o))) continue
    await db.query(await readFile(path.join(PRISMA_MIGRATIONS, dir, 'migration.sql'), 'utf8'))
    applied.push(dir)
  }
  return applied
}

/** The team's old `db:migrate:manual`: psql runs the file statement by statement, autocommitting. */
export async function runManualScriptWithPsql(binDir: string, url: string): Promise<string> {
  const { stdout, stderr } = await promisify(execFile)(
    path.join(binDir, 'psql'),
    ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', MANUAL_SCRIPT, url],
    {
      env: { PATH: process.env.PATH ?? '' },
    },
  )
  return stdout + stderr
}

export interface SchemaSnapshot {
  enums: string[]
  columns: string[]
  constraints: string[]
  indexes: string[]
}

const APP_SCHEMA_FILTER = `n.nspname = 'public'`
/** Ledgers of migration tools are not part of the app's schema. */
const LEDGER = `not (c.relname like '\\_prisma%' or c.relname like 'dbops%' or c.relname like '%migrations%')`

/** A comparable description of the app's schema: enums, columns, constraints, indexes. */
export async function describeSchema(db: Queryable): Promise<SchemaSnapshot> {
  const enums = await db.query(`
    select t.typname || ': ' || string_agg(e.enumlabel, ', ' order by e.enumsortorder) as line
    from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
    where ${APP_SCHEMA_FILTER} group by t.typname order by 1`)
  const columns = await db.query(`
    select c.relname || '.' || a.attname || ' #' || a.attnum || ' ' || format_type(a.atttypid, a.atttypmod)
           || case when a.attnotnull then ' not null' else '' end
           || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') as line
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where ${APP_SCHEMA_FILTER} and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped and ${LEDGER}
    order by 1`)
  const constraints = await db.query(`
    select c.relname || ' ' || con.conname || ' ' || pg_get_constraintdef(con.oid) as line
    from pg_constraint con join pg_class c on c.oid = con.conrelid join pg_namespace n on n.oid = c.relnamespace
    where ${APP_SCHEMA_FILTER} and ${LEDGER}
    order by 1`)
  const indexes = await db.query(`
    select pg_get_indexdef(i.indexrelid) || case when i.indisvalid then '' else ' [INVALID]' end as line
    from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
    where ${APP_SCHEMA_FILTER} and ${LEDGER}
    order by 1`)
  const lines = (r: { rows: { line: string }[] }) => r.rows.map((row) => row.line)
  return {
    enums: lines(enums),
    columns: lines(columns),
    constraints: lines(constraints),
    indexes: lines(indexes),
  }
}

/** Names of the valid indexes of the app's tables. */
export async function indexNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query(`
    select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
    where ${APP_SCHEMA_FILTER} and i.indisvalid order by 1`)
  return rows.map((r: { name: string }) => r.name)
}
