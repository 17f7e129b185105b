import { cancelBackend, isAbortError, scrub, type Context } from 'dbops/plugin'
import type pg from 'pg'
import { CATALOG, CONNECTION_CHECK_ID } from './checks/index.ts'
import type { HealthOptions } from './options.ts'
import { compare, formatValue } from './thresholds.ts'
import { worstStatus } from './status.ts'
import type {
  CheckContext,
  CheckDefinition,
  CheckOutcome,
  CheckResult,
  Finding,
  HealthReport,
  ServerInfo,
  Status,
  ThresholdOptions,
} from './types.ts'
import { SERVER_INFO_SQL, readServerInfo } from './checks/connection.ts'
import {
  beginBounded,
  explainServerError,
  sessionTimeoutNote,
  type Timeouts,
} from './transaction.ts'

export interface Selection {
  only?: string[]
  skip?: string[]
}

/** The checks a run covers: enabled in the config, then narrowed by only/skip. */
export function selectChecks(options: HealthOptions, selection: Selection = {}): CheckDefinition[] {
  const only = selection.only ?? options.only
  const skip = new Set([...(options.skip ?? []), ...(selection.skip ?? [])])
  return CATALOG.filter((c) => {
    const o = options.checks[c.id as keyof HealthOptions['checks']] as ThresholdOptions
    if (only) return only.includes(c.id) && !skip.has(c.id)
    return o.enabled && !skip.has(c.id)
  })
}

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
  const results = new Map<string, CheckResult>()
  const clients: pg.PoolClient[] = []
  const secrets = [ctx.db.target.password, ctx.db.replicaTarget?.password]

  let server: ServerInfo | undefined
  let connectFailure: string | undefined
  /** The server answered health's first query with an error (a tiny statement_timeout): connected, but nothing could be checked. */
  let serverRefusal: string | undefined
  // The connection check runs first, always: it gathers the facts the other checks need.
  const connectionCheck = CATALOG.find((c) => c.id === CONNECTION_CHECK_ID)!
  const first = await acquire(ctx).catch((error: unknown) => {
    if (isAbortError(error) || ctx.signal.aborted) throw error
    connectFailure = scrub((error as Error).message, secrets)
    return undefined
  })
  if (first) {
    clients.push(first)
    const began = Date.now()
    // Not cut by the run's budget: without these facts no check can run, not even to say so.
    const timeouts = { statement: options.statementTimeoutMs, lock: options.lockTimeoutMs }
    try {
      server = await readServer(first, timeouts)
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      const explained = explainServerError(error, timeouts)
      if (explained) serverRefusal = scrub(explained, secrets)
      else connectFailure = scrub((error as Error).message, secrets)
    }
    if (server) {
      const result = await runOne(ctx, first, connectionCheck, options, server, deadline).catch(
        (error: unknown) => {
          if (ctx.signal.aborted) throw ctx.signal.reason
          clients.length = 0 // the client is in doubt: destroy it, the workers take fresh ones
          first.release(error instanceof Error ? error : new Error(String(error)))
          return finish(
            connectionCheck,
            options,
            {
              status: 'critical',
              message: `the database stopped answering: ${scrub((error as Error).message, secrets)}`,
            },
            Date.now() - began,
          )
        },
      )
      const note = sessionTimeoutNote(server, options.statementTimeoutMs)
      if (note && result.status !== 'critical') result.message += `; ${note}`
      result.durationMs = Date.now() - began
      results.set(connectionCheck.id, result)
    } else if (serverRefusal) {
      results.set(
        connectionCheck.id,
        finish(
          connectionCheck,
          options,
          {
            status: 'unknown',
            message: `connected, but health's first query failed: ${serverRefusal}`,
          },
          Date.now() - began,
        ),
      )
    }
  }
  if (!server && !serverRefusal) {
    results.set(
      connectionCheck.id,
      finish(
        connectionCheck,
        options,
        { status: 'critical', message: `cannot reach the database: ${connectFailure}` },
        0,
      ),
    )
  }

  const queue = selected.filter((c) => c.id !== CONNECTION_CHECK_ID)
  const local = queue.filter((c) => c.local)
  const remote = queue.filter((c) => !c.local)

  if (!server) {
    const why = serverRefusal
      ? `not checked: health's first query failed: ${serverRefusal}`
      : 'not checked: no connection to the database'
    for (const check of remote)
      results.set(check.id, finish(check, options, { status: 'unknown', message: why }, 0))
  } else {
    let next = 0
    const worker = async (slot: number) => {
      while (next < remote.length) {
        const check = remote[next++]!
        if (ctx.signal.aborted) throw ctx.signal.reason
        if (Date.now() >= deadline) {
          results.set(
            check.id,
            finish(
              check,
              options,
              {
                status: 'unknown',
                message: `not checked: the run's time budget (${options.runTimeoutMs} ms) was spent`,
              },
              0,
            ),
          )
          continue
        }
        let client = clients[slot]
        if (!client) {
          try {
            client = await acquire(ctx)
            clients[slot] = client
          } catch (error) {
            if (ctx.signal.aborted) throw ctx.signal.reason
            results.set(
              check.id,
              finish(
                check,
                options,
                {
                  status: 'unknown',
                  message: `not checked: ${scrub((error as Error).message, secrets)}`,
                },
                0,
              ),
            )
            continue
          }
        }
        const began = Date.now()
        const result = await runOne(ctx, client, check, options, server!, deadline).catch(
          (error: unknown) => {
            if (ctx.signal.aborted) throw ctx.signal.reason
            // The client is unusable (connection lost, watchdog fired): drop it, take a new one next time.
            clients[slot] = undefined as unknown as pg.PoolClient
            client!.release(error instanceof Error ? error : new Error(String(error)))
            return finish(
              check,
              options,
              { status: 'unknown', message: scrub((error as Error).message, secrets) },
              Date.now() - began,
            )
          },
        )
        result.durationMs = Date.now() - began
        results.set(check.id, result)
      }
    }
    try {
      await Promise.all(
        Array.from({ length: Math.max(1, Math.min(options.concurrency, remote.length)) }, (_, i) =>
          worker(i),
        ),
      )
    } finally {
      for (const c of clients) c?.release()
    }
  }
  if (!server) for (const c of clients) c?.release()

  // Local checks last: the pool check then sees the connections this run used.
  for (const check of local) {
    const began = Date.now()
    try {
      const outcome = await check.run(
        makeContext(ctx, undefined, check, options, server, deadline, began),
      )
      results.set(check.id, finish(check, options, outcome, Date.now() - began))
    } catch (error) {
      if (ctx.signal.aborted) throw ctx.signal.reason
      results.set(
        check.id,
        finish(
          check,
          options,
          {
            status: 'unknown',
            message: `the check failed: ${scrub((error as Error).message, secrets)}`,
          },
          Date.now() - began,
        ),
      )
    }
  }

  const ordered = CATALOG.filter(
    (c) =>
      results.has(c.id) &&
      (c.id !== CONNECTION_CHECK_ID || selected.includes(c) || results.get(c.id)!.status !== 'ok'),
  ).map((c) => results.get(c.id)!)
  const counts: Record<Status, number> = { ok: 0, warning: 0, critical: 0, unknown: 0, skipped: 0 }
  for (const r of ordered) counts[r.status]++
  const report: HealthReport = {
    schemaVersion: 1,
    status: worstStatus(ordered.map((r) => r.status)),
    target: ctx.db.description,
    database: ctx.db.target.database,
    ...(server ? { serverVersion: server.version } : {}),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    counts,
    checks: ordered,
  }
  return scrubDeep(report, secrets)
}

async function acquire(ctx: Context): Promise<pg.PoolClient> {
  ctx.signal.throwIfAborted()
  return ctx.db.connect()
}

/** A check's statement_timeout (its own, else the run's, never past the run's deadline) and lock_timeout. */
function checkTimeouts(options: HealthOptions, check: CheckDefinition, deadline: number): Timeouts {
  const own = options.checks[check.id as keyof HealthOptions['checks']] as ThresholdOptions
  const statement = Math.max(
    1,
    Math.min(own.timeoutMs ?? options.statementTimeoutMs, deadline - Date.now()),
  )
  return { statement, lock: Math.min(options.lockTimeoutMs, statement) }
}

/** The server facts, read under health's own timeouts like every check. */
async function readServer(client: pg.PoolClient, timeouts: Timeouts): Promise<ServerInfo> {
  try {
    await beginBounded(client, timeouts)
    const { rows } = await client.query(SERVER_INFO_SQL)
    await client.query('commit')
    return readServerInfo(rows[0])
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  }
}

/** One database check inside its own read-only transaction, bounded by its timeouts. */
async function runOne(
  ctx: Context,
  client: pg.PoolClient,
  check: CheckDefinition,
  options: HealthOptions,
  server: ServerInfo,
  deadline: number,
): Promise<CheckResult> {
  const timeouts = checkTimeouts(options, check, deadline)
  const { statement } = timeouts
  const began = Date.now()
  let watchdog: NodeJS.Timeout | undefined
  const cancel = () => void cancelBackend(ctx.db, client)
  ctx.signal.addEventListener('abort', cancel, { once: true })
  try {
    await beginBounded(client, timeouts)
    const work = check.run(
      makeContext(ctx, client, check, options, server, began + statement, began),
    )
    work.catch(() => {}) // when the watchdog wins, the late failure of the abandoned check is expected
    // The server enforces statement_timeout per statement; this bounds the whole check
    // (several statements, or a server that stopped answering) on the client side.
    const guard = new Promise<never>((_, reject) => {
      watchdog = setTimeout(() => {
        cancel()
        reject(new Error(`no answer within ${statement + 2000} ms: the check was abandoned`))
      }, statement + 2000)
    })
    const outcome = await Promise.race([work, guard])
    await client.query('commit')
    return finish(check, options, outcome, Date.now() - began)
  } catch (error) {
    if (ctx.signal.aborted) throw error
    const message = explainServerError(error, timeouts, server)
    if (!message) throw error // not a server error: the connection itself is in doubt
    await client.query('rollback').catch(() => {})
    return finish(check, options, { status: 'unknown', message }, Date.now() - began)
  } finally {
    clearTimeout(watchdog)
    ctx.signal.removeEventListener('abort', cancel)
  }
}

function makeContext(
  ctx: Context,
  client: pg.PoolClient | undefined,
  check: CheckDefinition,
  options: HealthOptions,
  server: ServerInfo | undefined,
  checkDeadline: number,
  began: number,
): CheckContext<any> {
  const own = options.checks[check.id as keyof HealthOptions['checks']] as ThresholdOptions
  const until = Math.min(checkDeadline, began + (own.timeoutMs ?? options.statementTimeoutMs))
  return {
    sql: async (text, params) => {
      if (!client) throw new Error(`${check.id} has no database connection`)
      return (await client.query(text, params as unknown[])).rows
    },
    client: client as pg.ClientBase,
    server: server as ServerInfo,
    options: own,
    limit: options.limit,
    scope: options.scope,
    ctx,
    remainingMs: () => until - Date.now(),
  }
}

/** Applies thresholds, fills defaults and cuts the listing: the outcome becomes a result. */
export function finish(
  check: CheckDefinition,
  options: HealthOptions,
  outcome: CheckOutcome,
  durationMs: number,
): CheckResult {
  const own = options.checks[check.id as keyof HealthOptions['checks']] as ThresholdOptions
  const direction = check.direction ?? 'above'
  const findings: Finding[] = (outcome.findings ?? []).map((f) => ({
    ...f,
    status: f.status ?? compare(f.value, own.warning, own.critical, direction),
  }))
  const worstFinding = findings.reduce<number | null>(
    (acc, f) =>
      f.value === null
        ? acc
        : acc === null
          ? f.value
          : direction === 'above'
            ? Math.max(acc, f.value)
            : Math.min(acc, f.value),
    null,
  )
  const value =
    outcome.value !== undefined ? outcome.value : (worstFinding ?? (findings.length ? null : 0))
  let status: Status =
    outcome.status ??
    worstStatus([
      compare(value, own.warning, own.critical, direction),
      ...findings.map((f) => f.status!),
    ])
  let message =
    outcome.message ??
    (findings.length
      ? `${outcome.total ?? findings.length} found; worst ${formatValue(value, check.unit)}`
      : 'nothing to report')
  let reason: string | undefined
  if (outcome.unknownReason) {
    message += `; ${outcome.unknownReason}`
    if (status === 'ok') status = 'unknown'
    reason = outcome.unknownReason
  }
  if (status === 'unknown' || status === 'skipped') reason ??= message
  return {
    check: check.id,
    title: check.title,
    status,
    value: status === 'skipped' ? null : value,
    unit: check.unit,
    display:
      status === 'skipped' || (status === 'unknown' && !outcome.findings)
        ? '-'
        : formatValue(value, check.unit),
    thresholds: { warning: own.warning, critical: own.critical, direction },
    message,
    findings: findings.slice(0, options.limit),
    total: outcome.total ?? findings.length,
    durationMs,
    ...(status === 'warning' || status === 'critical' || status === 'unknown'
      ? { hint: check.hint }
      : {}),
    ...(reason ? { reason } : {}),
  }
}

function scrubDeep<T>(value: T, secrets: (string | undefined)[]): T {
  if (typeof value === 'string') return scrub(value, secrets) as T
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, secrets)) as T
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = scrubDeep(v, secrets)
    return out as T
  }
  return value
}
