import type { Context } from 'dbops/plugin'
import { CATALOG, CONNECTION_CHECK_ID } from './checks/index.ts'
import { runDatabaseChecks } from './engine/database-checks.ts'
import { firstContact } from './engine/first-contact.ts'
import { runLocalChecks } from './engine/local-checks.ts'
import { healthReport } from './engine/report.ts'
import { unknownResult } from './engine/result.ts'
import { selectChecks, type Selection } from './engine/select.ts'
import type { HealthOptions } from './options.ts'
import type { CheckResult, HealthReport } from './types.ts'

/**
 * Runs the selected checks and returns the report. Never throws for a check's sake: a
 * check that times out, waits for a lock, lacks a privilege or fails reports UNKNOWN with
 * the reason. Each database check runs in its own read-only transaction with `SET LOCAL
 * statement_timeout` and `lock_timeout`, so it cannot queue behind DDL for longer than that.
 * Throws only when the run is interrupted (ctx.signal).
 */
export async function runHealth(
  ctx: Context,
  options: HealthOptions,
  selection: Selection = {},
): Promise<HealthReport> {
  const started = Date.now()
  const deadline = started + options.runTimeoutMs
  const selected = selectChecks(options, selection)
  const secrets = [ctx.db.target.password, ctx.db.replicaTarget?.password]
  const others = selected.filter((c) => c.id !== CONNECTION_CHECK_ID)
  const database = others.filter((c) => !c.local)

  // The connection check runs first, always: it gathers the facts the other checks need.
  const connectionCheck = CATALOG.find((c) => c.id === CONNECTION_CHECK_ID)!
  const contact = await firstContact(ctx, connectionCheck, options, deadline, secrets)
  const results = new Map<string, CheckResult>([[connectionCheck.id, contact.result]])

  if (contact.server) {
    const found = await runDatabaseChecks(ctx, database, options, {
      server: contact.server,
      ...(contact.client ? { client: contact.client } : {}),
      deadline,
      secrets,
    })
    for (const [id, result] of found) results.set(id, result)
  } else {
    for (const check of database)
      results.set(check.id, unknownResult(check, options, contact.notChecked))
  }

  // Local checks last: the pool check then sees the connections this run used.
  const local = others.filter((c) => c.local)
  const found = await runLocalChecks(ctx, local, options, contact.server, deadline, secrets)
  for (const [id, result] of found) results.set(id, result)

  return healthReport(ctx, selected, results, contact.server, started, secrets)
}
