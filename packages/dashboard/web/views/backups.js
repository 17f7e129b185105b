// "Backups": every set, filtered by database, and the folders that are not sets.
import { showMeta } from '../banner.js'
import { load } from '../data.js'
import { empty, h, pill, section, table, td } from '../dom.js'
import { bytes, duration, when } from '../format.js'
import { setLink, verificationBadge } from '../links.js'
import { sessionFilter } from './filter.js'

function failed(s) {
  return (s.lastVerification && s.lastVerification.status === 'failed') || s.damaged?.length
}

function setsTable(sets) {
  return table(
    [
      'set',
      'database',
      'destination',
      'started',
      'size',
      'duration',
      'format',
      'encrypted',
      'verified',
      'tags',
    ],
    sets.map((s) =>
      h(
        'tr',
        { class: `set${failed(s) ? ' set-failed' : ''}` },
        td(setLink(s), 'mono'),
        td(s.database),
        td(s.destination),
        td(when(s.startedAt)),
        td(bytes(s.bytes), 'num'),
        td(duration(s.durationMs / 1000), 'num'),
        td(`${s.format} · ${s.compression}`),
        td(s.encrypted ? 'age' : 'no'),
        td(verificationBadge(s)),
        td(s.tags.join(', ')),
      ),
    ),
    { id: 'backups-table' },
  )
}

export function viewBackups() {
  return load('api/backups').then((b) => {
    showMeta(b)
    const databases = Array.from(new Set(b.sets.map((s) => s.database))).sort()
    const pick = sessionFilter('db-filter', 'dbops.db', 'every database', databases)
    const sets = b.sets.filter((s) => !pick.value || s.database === pick.value)
    const out = [
      h('h1', null, 'Backup sets'),
      h(
        'div',
        { class: 'filters' },
        'Database ',
        pick,
        h('span', { class: 'muted' }, `${sets.length} sets`),
      ),
      sets.length ? setsTable(sets) : empty('No backup sets.'),
    ]
    if (b.incomplete.length)
      out.push(
        section(
          'Incomplete (no manifest)',
          table(
            ['destination', 'folder'],
            b.incomplete.map((i) =>
              h(
                'tr',
                { class: 'incomplete' },
                td(i.destination),
                td([pill('failed'), ' ', i.prefix], 'mono'),
              ),
            ),
          ),
        ),
      )
    return out
  })
}
