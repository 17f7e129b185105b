// The cards at the top of "Now": health, backups, runs, migrations.
import { h, pill } from '../dom.js'
import { ago } from '../format.js'

function card(attrs, title, big, hint) {
  return h(
    'div',
    { class: 'card', ...attrs },
    h('div', { class: 'muted' }, title),
    big === null ? null : h('div', { class: 'big' }, big),
    hint,
  )
}

function healthCard(o) {
  const attrs = { id: 'card-health', 'data-at': o.health ? o.health.at : '' }
  if (!o.health)
    return card(
      attrs,
      'Health',
      null,
      h(
        'div',
        { class: 'hint' },
        o.sources.health.recorded
          ? 'no results yet'
          : 'no health history recorded: run the health:check task (a schedule)',
      ),
    )
  const counts = Object.keys(o.health.counts)
    .map((k) => `${o.health.counts[k]} ${k}`)
    .join(', ')
  return card(
    attrs,
    'Health',
    pill(o.health.status),
    h('div', { class: 'hint' }, `checked ${ago(o.health.at)} · ${counts}`),
  )
}

function migrationsCard(m) {
  const status = m.status === 'up-to-date' ? 'ok' : m.status === 'pending' ? 'warning' : 'critical'
  return card(
    {},
    'Migrations',
    pill(status),
    h('div', { class: 'hint' }, `${m.applied} applied, ${m.pending} pending, ${m.drifted} drifted`),
  )
}

export function nowCards(o) {
  return h('div', { class: 'cards' }, [
    healthCard(o),
    card(
      {},
      'Backups',
      String(o.lastBackups.length ? o.lastBackups.reduce((n, b) => n + b.sets, 0) : 0),
      h(
        'div',
        { class: 'hint' },
        `${o.databases.length} database(s); ${o.lastBackups.filter((b) => b.stale).length} stale`,
      ),
    ),
    card(
      {},
      'Runs',
      `${String(o.running.length)} running`,
      h(
        'div',
        { class: `hint${o.recentFailures.length ? ' red' : ''}` },
        `${o.recentFailures.length} failed in the last days`,
      ),
    ),
    o.migrations ? migrationsCard(o.migrations) : null,
  ])
}
