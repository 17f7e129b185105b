// The health checks table: worst first, each with its value, message and since when it is not OK.
import { h, pill, table, td } from '../dom.js'
import { ago, value } from '../format.js'

const ORDER = { critical: 0, warning: 1, unknown: 2, ok: 3, skipped: 4 }

function since(check, bad) {
  if (bad && check.notOkSince) return `not OK for ${ago(check.notOkSince).replace(' ago', '')}`
  return check.at ? ago(check.at) : '-'
}

export function healthTable(list) {
  const checks = list
    .slice()
    .sort((a, b) => ORDER[a.status] - ORDER[b.status] || a.check.localeCompare(b.check))
  const many = new Set(checks.map((c) => c.database)).size > 1
  return table(
    ['status', 'check'].concat(many ? ['database'] : [], ['value', 'message', 'since']),
    checks.map((c) => {
      const bad = c.status !== 'ok' && c.status !== 'skipped'
      return h(
        'tr',
        { class: `check check-${c.status}`, 'data-check': c.check },
        td(pill(c.status)),
        td([c.title, h('div', { class: 'hint mono' }, c.check)]),
        many ? td(c.database) : null,
        td(value(c.value, c.unit), 'num'),
        td([c.message || '', bad && c.hint ? h('div', { class: 'hint' }, c.hint) : null]),
        td(since(c, bad)),
      )
    }),
    { id: 'health-table' },
  )
}
