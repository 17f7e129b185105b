import {
  DbopsError,
  POOLER_HINT,
  takeAdvisoryLock,
  type Context,
  type HeldLock,
  type LockHolder,
} from 'dbops/plugin'
import type { Ledger } from './ledger/types.ts'
import type { MigrateOptions } from './options.ts'
import type { MigrationSession } from './session.ts'

/**
 * The migration lock of a ledger (dbops' key, or Prisma's own 72707369 so that `prisma migrate
 * deploy` and dbops exclude each other), taken with the kit's advisory lock on the run's own
 * session, waiting up to `lockWait`, in migrate's words.
 */
export function takeMigrationLock(
  session: MigrationSession,
  ledger: Ledger,
  options: MigrateOptions,
  ctx: Pick<Context, 'logger' | 'signal'>,
): Promise<HeldLock> {
  return takeAdvisoryLock(session, ledger.lockKey, {
    name: ledger.display,
    waitMs: options.lockWait,
    signal: ctx.signal,
    onWait: (holder) =>
      ctx.logger.info(
        `waiting up to ${Math.round(options.lockWait / 1000)}s for the migration lock held by ${describeHolder(holder)}`,
      ),
    errors: {
      held: (holder, waitedMs) =>
        new DbopsError(
          'MIGRATION_LOCK_HELD',
          `another migration holds the lock on ${ledger.display}: ${describeHolder(holder)}; gave up after waiting ${(waitedMs / 1000).toFixed(1)}s`,
          {
            hint: "Wait for that run to finish and retry, raise the migrate plugin's `lockWait`, or if it is stuck end it with pg_terminate_backend(<pid>).",
          },
        ),
      pooler: () =>
        new DbopsError(
          'MIGRATION_POOLER',
          'the migration lock was taken on one server connection and the next query ran on another: the connection goes through a transaction-mode pooler',
          { hint: POOLER_HINT },
        ),
    },
  })
}

function describeHolder(h: LockHolder | undefined): string {
  if (!h) return 'a session that has just released it'
  const from = h.clientAddr ? `, from ${h.clientAddr}` : ''
  return `pid ${h.pid} (application_name '${h.applicationName}'${from}, ${h.state ?? 'unknown state'}, since ${h.activeSince.toISOString()})`
}
