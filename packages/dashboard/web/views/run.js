// One run: its outcome, its error and each step with its summary.
import { showMeta } from '../banner.js'
import { load, REPORT } from '../data.js'
import { empty, h, pill, section, table, td } from '../dom.js'
import { duration, when } from '../format.js'

function steps(list) {
  if (!list) return empty('This run was recorded by a watcher that did not keep steps.')
  if (!list.length) return empty('The run ended before its first step.')
  return table(
    ['step', 'status', 'duration', 'summary', 'error'],
    list.map((s) =>
      h(
        'tr',
        { class: 'step' },
        td([s.title, h('div', { class: 'hint mono' }, s.id)]),
        td(pill(s.status)),
        td(duration(s.durationMs / 1000), 'num'),
        td(s.summary || ''),
        td(s.error ? h('span', { class: 'error' }, s.error) : ''),
      ),
    ),
  )
}

export function viewRun(id) {
  return load(`api/runs/${encodeURIComponent(id)}`).then((d) => {
    if (!d)
      return [
        h('h1', null, `Run ${id}`),
        empty(
          REPORT
            ? 'This run is listed, but its details are not included in this report.'
            : 'No such run (as last read).',
        ),
      ]
    showMeta(d)
    const r = d.run
    return [
      h('h1', null, `Run ${r.id.slice(0, 8)} of ${r.schedule}`),
      table(
        ['status', 'pipelines', 'tick', 'started', 'ended', 'duration', 'watcher', 'tags'],
        [
          h(
            'tr',
            null,
            td(pill(r.status)),
            td(r.pipelines.join(', ')),
            td(when(r.tick)),
            td(when(r.startedAt)),
            td(when(r.endedAt)),
            td(r.durationMs !== null ? duration(r.durationMs / 1000) : '-', 'num'),
            td(`${r.host}:${r.pid}`, 'mono'),
            td(r.tags.join(', ')),
          ),
        ],
      ),
      r.error ? section('Error', h('pre', { class: 'error' }, r.error)) : null,
      section('Steps', steps(r.steps)),
    ]
  })
}
