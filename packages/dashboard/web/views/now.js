// "Now": the cards, the health checks, the last backup per database and destination,
// incomplete backups, schedules, what is running and what failed recently.
import { load } from '../data.js'
import { empty, h, pill, section, table, td } from '../dom.js'
import { ago, bytes, duration, when } from '../format.js'
import { runLink, setLink, verificationBadge } from '../links.js'
import { showMeta } from '../banner.js'
import { healthTable } from './health-table.js'
import { nowCards } from './now-cards.js'
import { runsTable } from './runs-table.js'

function lastBackups(o) {
  if (!o.lastBackups.length) return empty('No backup sets in any destination.')
  const proofDays = o.thresholds.restoreProofMaxAgeDays
  return table(
    ['database', 'destination', 'set', 'age', 'size', 'duration', 'verified', 'last restore proof'],
    o.lastBackups.map((b) =>
      h(
        'tr',
        { class: 'last-backup' },
        td(b.database),
        td(b.destination),
        td(setLink(b), 'mono'),
        td(h('span', { class: b.stale ? 'red' : '' }, ago(b.finishedAt))),
        td(bytes(b.bytes), 'num'),
        td(duration(b.durationMs / 1000), 'num'),
        td(verificationBadge(b)),
        td(
          h(
            'span',
            {
              class: b.restoreProofStale ? 'red restore-proof' : 'restore-proof',
              title: `red past ${proofDays} days`,
            },
            b.lastRestoreProofAt ? ago(b.lastRestoreProofAt) : 'never',
          ),
        ),
      ),
    ),
  )
}

function incomplete(o) {
  return table(
    ['destination', 'folder', 'state'],
    o.incomplete.map((i) =>
      h(
        'tr',
        { class: 'incomplete' },
        td(i.destination),
        td(i.prefix, 'mono'),
        td([
          pill('failed'),
          ' ',
          i.kind === 'unreadable' ? `manifest unreadable: ${i.error || ''}` : 'no manifest',
        ]),
      ),
    ),
  )
}

function schedules(o) {
  if (!o.schedules.length) return empty('The config has no schedules.')
  return table(
    ['schedule', 'cron', 'runs', 'next run', 'last run'],
    o.schedules.map((s) =>
      h(
        'tr',
        null,
        td(s.name),
        td(s.cron + (s.timezone ? ` (${s.timezone})` : ''), 'mono'),
        td(s.run.join(', ')),
        td(s.next ? `${ago(s.next)} · ${when(s.next)}` : '-'),
        td(
          s.last
            ? [pill(s.last.status), ' ', runLink(s.last, ago(s.last.endedAt || s.last.queuedAt))]
            : 'never',
        ),
      ),
    ),
  )
}

export function viewNow() {
  return Promise.all([load('api/overview'), load('api/health')]).then(([o, health]) => {
    const checks = health?.checks || []
    showMeta(o)
    const out = [h('h1', null, `Now · ${o.target}`), nowCards(o)]
    out.push(
      section(
        'Health checks',
        checks.length
          ? healthTable(checks)
          : empty(
              'No health results recorded yet. The health:check task records each run (see @dbops/health).',
            ),
      ),
    )
    out.push(section('Last backup per database and destination', lastBackups(o)))
    if (o.incomplete.length)
      out.push(section('Incomplete backups (no manifest: failed, or still running)', incomplete(o)))
    out.push(section('Schedules', schedules(o)))
    out.push(
      section('Running', o.running.length ? runsTable(o.running) : empty('Nothing is running.')),
    )
    out.push(
      section(
        'Recently failed',
        o.recentFailures.length
          ? runsTable(o.recentFailures, true)
          : empty('No failed runs in the last days.'),
      ),
    )
    return out
  })
}
