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

/** Sessions the role cannot see (no pg_monitor): a reason to say UNKNOWN rather than OK. */
export function invisibleReason(count: number, user: string): string | undefined {
  if (count <= 0) return undefined
  return `${count} session${count === 1 ? '' : 's'} of other roles are invisible to ${user} (not a member of pg_monitor)`
}

/** A session as people read it: `pid 4121 (app@shop psql)`. */
export function sessionName(row: Record<string, unknown>): string {
  const app = row.application_name ? ` ${row.application_name}` : ''
  return `pid ${row.pid} (${row.usename ?? '?'}@${row.datname ?? '?'}${app})`
}
