// "Migrations": drifted, missing, partial and pending first, then every applied one.
import { showMeta } from '../banner.js'
import { load } from '../data.js'
import { empty, h, pill, table, td } from '../dom.js'
import { duration, when } from '../format.js'

function row(status, state, file, detail) {
  return h('tr', { class: 'migration' }, td(pill(status)), td(state), td(file, 'mono'), td(detail))
}

function rows(m) {
  return [
    ...m.drifted.map((x) =>
      row('critical', 'drifted', x.file, `changed since it was applied at ${when(x.appliedAt)}`),
    ),
    ...m.missing.map((x) =>
      row('critical', 'missing', x.name, `applied at ${when(x.appliedAt)}, no longer on disk`),
    ),
    ...m.partial.map((x) =>
      row(
        'warning',
        'partial',
        x.file,
        `${x.statementsApplied || 0}/${x.statementsTotal || '?'} statements` +
          (x.error ? `: ${x.error}` : ''),
      ),
    ),
    ...m.pending.map((x) => row('warning', 'pending', x.file, x.outOfOrder ? 'out of order' : '')),
    ...m.applied
      .slice()
      .reverse()
      .map((x) =>
        row(
          'ok',
          x.baseline ? 'baseline' : 'applied',
          x.file,
          when(x.appliedAt) + (x.durationMs !== null ? ` · ${duration(x.durationMs / 1000)}` : ''),
        ),
      ),
  ]
}

export function viewMigrations() {
  return load('api/migrations').then((d) => {
    showMeta(d)
    const m = d.migrations
    if (!m)
      return [
        h('h1', null, 'Migrations'),
        empty('The config has no migrate plugin (or its status could not be read yet).'),
      ]
    const status =
      m.status === 'up-to-date' ? 'ok' : m.status === 'pending' ? 'warning' : 'critical'
    return [
      h('h1', null, `Migrations · ${m.ledger}`),
      h(
        'p',
        null,
        pill(status),
        ' ',
        `${m.applied.length} applied, ${m.pending.length} pending, ${m.drifted.length} drifted, ${m.missing.length} missing`,
      ),
      table(['', 'state', 'file', 'detail'], rows(m), { id: 'migrations-table' }),
    ]
  })
}
