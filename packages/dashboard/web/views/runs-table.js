// A table of runs: when, which schedule, the outcome, how long, which watcher, the error.
import { now } from '../data.js'
import { h, pill, table, td } from '../dom.js'
import { duration, when } from '../format.js'
import { runLink } from '../links.js'

function runDuration(r) {
  if (r.durationMs !== null) return duration(r.durationMs / 1000)
  if (r.status === 'running' && r.startedAt)
    return `${duration((now() - Date.parse(r.startedAt)) / 1000)}…`
  return '-'
}

export function runsTable(runs, withError) {
  const errors = withError !== false
  return table(
    ['started', 'schedule', 'status', 'duration', 'watcher'].concat(errors ? ['error'] : []),
    runs.map((r) =>
      h(
        'tr',
        { class: `run run-${r.status}` },
        td(runLink(r, when(r.startedAt || r.queuedAt))),
        td(r.schedule),
        td(pill(r.status)),
        td(runDuration(r), 'num'),
        td(`${r.host}:${r.pid}`, 'mono'),
        errors ? td(r.error ? h('span', { class: 'error' }, r.error.split('\n')[0]) : '') : null,
      ),
    ),
  )
}
