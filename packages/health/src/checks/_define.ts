import type { z } from 'zod'
import type { CheckDefinition, Finding } from '../types.ts'

/** Declares a check; exists for the option types. */
export function defineCheck<S extends z.ZodRawShape = {}>(
  definition: CheckDefinition<S>,
): CheckDefinition<S> {
  return definition
}

/** `datname = current_database()` unless the run covers the whole cluster. */
export function scopeFilter(scope: 'database' | 'cluster', column = 'datname'): string {
  return scope === 'cluster' ? 'true' : `${column} = current_database()`
}

/** A query text short enough for a report line, on one line. */
export function shortQuery(query: unknown, max = 160): string {
  const text = String(query ?? '')
    .replace(/\s+/g, ' ')
    .trim()
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v))

/** Sessions the role cannot see (no pg_monitor): a reason to say UNKNOWN rather than OK. */
export function invisibleReason(count: number, user: string): string | undefined {
  if (count <= 0) return undefined
  return `${count} session${count === 1 ? '' : 's'} of other roles are invisible to ${user} (not a member of pg_monitor)`
}

export function sessionName(row: Record<string, any>): string {
  const app = row.application_name ? ` ${row.application_name}` : ''
  return `pid ${row.pid} (${row.usename ?? '?'}@${row.datname ?? '?'}${app})`
}
