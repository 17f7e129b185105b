import { lockKey, quoteIdent } from 'dbops/plugin'
import { migrationChecksum, type MigrationFile } from '../files/migration-file.ts'
import { literal } from '../sql/quote.ts'
import type { Ledger, LedgerRow } from './types.ts'

/** A row of dbops' ledger table as `load` reads it. */
type DbopsRow = {
  version: string
  name: string
  kind: LedgerRow['kind']
  checksum: string
  content_sha256: string | null
  applied_at: Date
  finished: boolean
  duration_ms: number | null
  applied_by: string
  statements_total: number | null
  statements_applied: number | null
  error: string | null
}

/** dbops' own ledger: one row per versioned or repeatable file. */
export function dbopsLedger(schema: string, table: string, dbopsVersion: string): Ledger {
  const t = `${quoteIdent(schema)}.${quoteIdent(table)}`
  const create = `
    create schema if not exists ${quoteIdent(schema)};
    create table if not exists ${t} (
      version            text primary key,
      name               text not null,
      kind               text not null check (kind in ('versioned', 'repeatable', 'baseline')),
      checksum           text not null,
      content_sha256     text,
      applied_at         timestamptz not null default now(),
      finished_at        timestamptz,
      duration_ms        integer,
      applied_by         text not null default current_user,
      statements_total   integer,
      statements_applied integer,
      error              text,
      dbops_version      text
    )`
  const onConflict = `
    on conflict (version) do update set name = excluded.name, kind = excluded.kind, checksum = excluded.checksum, content_sha256 = excluded.content_sha256,
      applied_at = excluded.applied_at, finished_at = excluded.finished_at, duration_ms = excluded.duration_ms, applied_by = current_user,
      statements_total = excluded.statements_total, statements_applied = excluded.statements_applied, error = excluded.error, dbops_version = excluded.dbops_version`
  // A versioned file is recorded once, so its insert needs no upsert (a lost race fails on the key, as it should).
  const upsert = (
    file: MigrationFile,
    values: string,
    mayExist = true,
    checksum = migrationChecksum(file),
  ) => `
    insert into ${t} (version, name, kind, checksum, content_sha256, applied_at, finished_at, duration_ms, statements_total, statements_applied, error, dbops_version)
    values (${literal(file.version)}, ${literal(file.ledgerName)}, ${literal(file.kind)}, ${literal(checksum)}, ${literal(file.contentSha256)}, ${values}, ${literal(dbopsVersion)})${mayExist || file.kind !== 'versioned' ? onConflict : ''}`
  const where = (file: MigrationFile) => `where version = ${literal(file.version)}`

  return {
    kind: 'dbops',
    display: `${schema}.${table}`,
    lockKey: lockKey(`migrate:${schema}.${table}`),
    async ensure(session) {
      await session.run(create)
    },
    async load(session) {
      const exists = await session.run<Array<{ t: string | null }>>(
        `select to_regclass(${literal(t)})::text as t`,
      )
      if (!exists[0]?.t) return []
      const rows = await session.run<DbopsRow[]>(
        `select version, name, kind, checksum, content_sha256, applied_at, finished_at is not null as finished, duration_ms, applied_by, statements_total, statements_applied, error from ${t}`,
      )
      return rows.map(
        (r): LedgerRow => ({
          version: r.version,
          name: r.name,
          kind: r.kind,
          checksum: r.checksum,
          contentSha256: r.content_sha256,
          appliedAt: new Date(r.applied_at),
          finished: r.finished,
          durationMs: r.duration_ms,
          appliedBy: r.applied_by,
          statementsTotal: r.statements_total,
          statementsApplied: r.statements_applied,
          error: r.error,
        }),
      )
    },
    matches(row, file) {
      // Identical bytes need no parsing; otherwise compare the token streams.
      if (row.contentSha256 && row.contentSha256 === file.contentSha256) return true
      return row.checksum === migrationChecksum(file)
    },
    recordSql(file, statements) {
      return upsert(
        file,
        `now(), clock_timestamp(), (extract(epoch from clock_timestamp() - now()) * 1000)::int, ${statements}, ${statements}, null`,
        false,
      )
    },
    async started(session, file, statements, resumeAt, appliedChecksum) {
      await session.run(
        upsert(file, `now(), null, null, ${statements}, ${resumeAt}, null`, true, appliedChecksum),
      )
    },
    async progress(session, file, applied, appliedChecksum) {
      await session.run(
        `update ${t} set statements_applied = ${applied}, checksum = ${literal(appliedChecksum)}, error = null ${where(file)}`,
      )
    },
    async finished(session, file, durationMs) {
      await session.run(
        `update ${t} set finished_at = clock_timestamp(), duration_ms = ${Math.round(durationMs)}, checksum = ${literal(migrationChecksum(file))}, error = null ${where(file)}`,
      )
    },
    async failed(session, file, message) {
      await session.run(`update ${t} set error = ${literal(message)} ${where(file)}`)
    },
    removeSql(file) {
      return `delete from ${t} ${where(file)}`
    },
    repairSql(file, appliedChecksum) {
      return `update ${t} set checksum = ${literal(appliedChecksum ?? migrationChecksum(file))}, content_sha256 = ${literal(file.contentSha256)} ${where(file)}`
    },
    baselineSql(file) {
      return upsert({ ...file, kind: 'baseline' as never }, `now(), now(), 0, 0, 0, null`)
    },
  }
}
