import path from 'node:path'
import { dbopsVersion, type Context } from 'dbops/plugin'
import { discoverMigrations, assertNoDuplicates, type MigrationSet } from './files/discover.ts'
import { dbopsLedger } from './ledger/dbops-ledger.ts'
import { prismaLedger } from './ledger/prisma-ledger.ts'
import type { Ledger } from './ledger/types.ts'
import type { MigrateOptions } from './options.ts'
import { takeMigrationLock } from './migration-lock.ts'
import { MigrationSession } from './session.ts'
import { loadParser } from './sql/parser.ts'

export function ledgerFor(options: MigrateOptions): Ledger {
  return options.ledger === 'prisma'
    ? prismaLedger(options.schema)
    : dbopsLedger(options.schema, options.table, dbopsVersion())
}

export async function readMigrations(
  options: MigrateOptions,
  logger?: Context['logger'],
): Promise<MigrationSet> {
  const set = await discoverMigrations(
    path.resolve(options.configDir, options.dir),
    process.cwd(),
    options.ledger,
  )
  if (set.ignored.length) {
    logger?.warn(
      `ignored, as Prisma ignores them (only folders holding a migration.sql are migrations): ${set.ignored.slice(0, 5).join(', ')}${set.ignored.length > 5 ? ` and ${set.ignored.length - 5} more` : ''}`,
    )
  }
  return set
}

/** Files read and checked, a session open, optionally the migration lock held: the frame of every command. */
export async function withMigrationSession<T>(
  ctx: Context,
  options: MigrateOptions,
  mode: { lock: boolean },
  fn: (s: {
    session: MigrationSession
    ledger: Ledger
    set: MigrationSet
    lockWaitMs: number
  }) => Promise<T>,
  check: { allowDuplicates?: boolean; lazyParser?: boolean } = {},
): Promise<T> {
  // The parser (WebAssembly) loads while the files are read and the connection opens.
  const parser = check.lazyParser ? undefined : loadParser()
  const set = await readMigrations(options, ctx.logger)
  if (!check.allowDuplicates) assertNoDuplicates(set)
  const ledger = ledgerFor(options)
  const [session] = await Promise.all([
    MigrationSession.open(ctx.db.target, ctx.signal, ctx.logger),
    parser,
  ])
  try {
    const lock = mode.lock ? await takeMigrationLock(session, ledger, options, ctx) : undefined
    try {
      return await fn({ session, ledger, set, lockWaitMs: lock?.waitedMs ?? 0 })
    } finally {
      await lock?.release()
    }
  } finally {
    await session.close()
  }
}
