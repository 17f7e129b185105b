import { scrub, type Context } from 'dbops/plugin'
import { CATALOG, CONNECTION_CHECK_ID } from '../checks/index.ts'
import { worstStatus } from '../status.ts'
import type { CheckDefinition, CheckResult, HealthReport, ServerInfo, Status } from '../types.ts'

/**
 * The report of a run: results in catalog order (the connection check only when it was
 * selected or failed), the counts and the worst status, with every secret scrubbed.
 */
export function healthReport(
  ctx: Context,
  selected: CheckDefinition[],
  results: Map<string, CheckResult>,
  server: ServerInfo | undefined,
  started: number,
  secrets: (string | undefined)[],
): HealthReport {
  const ordered: CheckResult[] = []
  for (const c of CATALOG) {
    const result = results.get(c.id)
    if (!result) continue
    if (c.id === CONNECTION_CHECK_ID && !selected.includes(c) && result.status === 'ok') continue
    ordered.push(result)
  }
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
