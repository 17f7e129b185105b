import { randomUUID } from 'node:crypto'
import { quoteIdent } from 'dbops/plugin'
import type { MigrationFile } from '../files/migration-file.ts'
import { sha256 } from '../files/migration-file.ts'
import { literal } from '../sql/quote.ts'
import type { Ledger, LedgerRow } from './types.ts'

/** A row of `_prisma_migrations` as `load` reads it. */
type PrismaRow = {
  checksum: string
  migration_name: string
  started_at: Date
  finished: boolean
  logs: string | null
  duration_ms: number | null
  applied_steps_count: number
}

/** Prisma's advisory lock key: `prisma migrate deploy` and dbops exclude each other. */
export const PRISMA_LOCK_KEY = 72707369n

/**
 * Prisma's `_prisma_migrations`, read and written exactly as Prisma Migrate does: the same
 * DDL, a v4 UUID id, the lowercase hex sha256 of migration.sql's bytes, started_at before
 * the script, finished_at and applied_steps_count = 1 on success, logs on failure. Rows
 * with rolled_back_at set are ignored, as Prisma ignores them.
 */
export function prismaLedger(schema: string): Ledger {
  const t = `${quoteIdent(schema)}.${quoteIdent('_prisma_migrations')}`
  const create = `
    create schema if not exists ${quoteIdent(schema)};
    CREATE TABLE IF NOT EXISTS ${t} (
      "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
      "checksum"              VARCHAR(64) NOT NULL,
      "finished_at"           TIMESTAMPTZ,
      "migration_name"        VARCHAR(255) NOT NULL,
      "logs"                  TEXT,
      "rolled_back_at"        TIMESTAMPTZ,
      "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
      "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
    )`
  const open = (file: MigrationFile) =>
    `where migration_name = ${literal(file.ledgerName)} and finished_at is null and rolled_back_at is null`
  return {
    kind: 'prisma',
    display: `${schema}._prisma_migrations`,
    lockKey: PRISMA_LOCK_KEY,
    async ensure(session) {
      await session.run(create)
    },
    async load(session) {
      const exists = await session.run<Array<{ t: string | null }>>(
        `select to_regclass(${literal(t)})::text as t`,
      )
      if (!exists[0]?.t) return []
      const rows = await session.run<PrismaRow[]>(
        `select checksum, migration_name, started_at, finished_at is not null as finished, logs,
                (extract(epoch from finished_at - started_at) * 1000)::int as duration_ms, applied_steps_count
           from ${t} where rolled_back_at is null order by started_at`,
      )
      return rows.map(
        (r): LedgerRow => ({
          version: /^(\d+)/.exec(r.migration_name)?.[1] ?? r.migration_name,
          name: r.migration_name,
          kind: 'versioned',
          checksum: r.checksum,
          contentSha256: r.checksum,
          appliedAt: new Date(r.started_at),
          finished: r.finished,
          durationMs: r.duration_ms,
          appliedBy: null,
          statementsTotal: null,
          statementsApplied: null,
          error: r.logs,
        }),
      )
    },
    matches(row, file) {
      // Prisma's own comparison (checksum.rs): raw text, or with line endings converted either way,
      // and for rows of old engines, the hex digits without zero padding.
      const same =
        row.checksum.length === 64
          ? (hex: string) => hex === row.checksum
          : (hex: string) => unpadded(hex) === row.checksum
      if (same(file.contentSha256)) return true
      const lf = file.text.replace(/\r\n/g, '\n')
      return same(sha256(lf)) || same(sha256(lf.replace(/\n/g, '\r\n')))
    },
    recordSql(file) {
      return `INSERT INTO ${t} (id, checksum, finished_at, migration_name, logs, rolled_back_at, started_at, applied_steps_count)
              VALUES (${literal(randomUUID())}, ${literal(file.contentSha256)}, clock_timestamp(), ${literal(file.ledgerName)}, NULL, NULL, now(), 1)`
    },
    async started(session, file, _statements, resumeAt, _appliedChecksum) {
      if (resumeAt > 0) return
      await session.run(
        `INSERT INTO ${t} (id, checksum, migration_name, started_at) VALUES (${literal(randomUUID())}, ${literal(file.contentSha256)}, ${literal(file.ledgerName)}, now())`,
      )
    },
    async progress() {},
    async finished(session, file) {
      await session.run(
        `UPDATE ${t} SET applied_steps_count = applied_steps_count + 1, finished_at = now() ${open(file)}`,
      )
    },
    async failed(session, file, message) {
      await session.run(`UPDATE ${t} SET logs = ${literal(message)} ${open(file)}`)
    },
    removeSql(file) {
      return `UPDATE ${t} SET rolled_back_at = now() WHERE migration_name = ${literal(file.ledgerName)} AND rolled_back_at IS NULL`
    },
    baselineSql(file) {
      // What `prisma migrate resolve --applied` writes.
      return `INSERT INTO ${t} (id, checksum, finished_at, migration_name, started_at, applied_steps_count)
              VALUES (${literal(randomUUID())}, ${literal(file.contentSha256)}, now(), ${literal(file.ledgerName)}, now(), 0)`
    },
  }
}

/** A sha256 as prisma-engines wrote it before prisma-engines#1887: each byte in hex without its leading zero. */
function unpadded(hex: string): string {
  return (hex.match(/../g) ?? []).map((byte) => byte.replace(/^0/, '')).join('')
}
