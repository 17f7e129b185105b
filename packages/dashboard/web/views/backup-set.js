// One backup set: what it is, its copies, its verifications, its objects and tables, its manifest.
import { showMeta } from '../banner.js'
import { load, REPORT } from '../data.js'
import { empty, h, pill, section, table, td } from '../dom.js'
import { ago, bytes, duration, when } from '../format.js'
import { verificationBadge } from '../links.js'

function card(title, big, hint) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'muted' }, title),
    h('div', { class: 'big' }, big),
    h('div', { class: 'hint' }, hint),
  )
}

function cards(s, m) {
  return h(
    'div',
    { class: 'cards' },
    card('Database', s.database, `server ${m.serverVersion} · pg_dump ${m.pgDumpVersion}`),
    card(
      'Size',
      bytes(s.bytes),
      `${s.format}, ${s.compression}${s.encrypted ? ', age-encrypted' : ', not encrypted'}`,
    ),
    card('Taken', ago(s.finishedAt), `${when(s.startedAt)} · ${duration(s.durationMs / 1000)}`),
    card(
      'Verified',
      verificationBadge(s),
      s.restoreProvenAt ? `restore proven ${ago(s.restoreProvenAt)}` : 'never restored',
    ),
  )
}

function copies(list) {
  return table(
    ['destination', 'location', 'last verification'],
    list.map((c) =>
      h(
        'tr',
        null,
        td(c.destination),
        td([c.location, h('div', { class: 'hint' }, c.prefix)], 'mono'),
        td(
          c.lastVerification
            ? [
                pill(c.lastVerification.status),
                ' ',
                `${c.lastVerification.method} · ${ago(c.lastVerification.at)}`,
              ]
            : 'never',
        ),
      ),
    ),
  )
}

function verifications(list) {
  if (!list.length) return empty('Never verified.')
  return table(
    ['when', 'status', 'proof', 'detail'],
    list
      .slice()
      .reverse()
      .map((v) =>
        h(
          'tr',
          { class: 'verification' },
          td(when(v.at)),
          td(pill(v.status)),
          td(v.method),
          td(v.detail || ''),
        ),
      ),
  )
}

function objects(list) {
  return table(
    ['object', 'role', 'size', 'sha256'],
    list.map((o) =>
      h('tr', null, td(o.name, 'mono'), td(o.role), td(bytes(o.size), 'num'), td(o.sha256, 'mono')),
    ),
  )
}

function tables(list) {
  if (!list.length) return empty('No tables recorded.')
  return table(
    ['table', 'rows', 'counted'],
    list.map((t) =>
      h(
        'tr',
        null,
        td(`${t.schema}.${t.name}`, 'mono'),
        td(t.rows.toLocaleString('en-US'), 'num'),
        td(t.exact ? 'exact' : 'estimate'),
      ),
    ),
  )
}

export function viewBackup(destination, id) {
  return load(`api/backups/${encodeURIComponent(destination)}/${encodeURIComponent(id)}`).then(
    (d) => {
      if (!d)
        return [
          h('h1', null, `Backup set ${id}`),
          empty(
            REPORT
              ? 'This set is listed, but its details are not included in this report.'
              : `No such set in ${destination} (as last read).`,
          ),
        ]
      showMeta(d)
      const s = d.set
      const m = d.manifest
      return [
        h('h1', { id: 'set-title' }, `Backup set ${s.id}`),
        cards(s, m),
        section('Copies', copies(d.copies)),
        section('Verification history', verifications(m.verification)),
        section('Objects and checksums', objects(m.objects)),
        section(`Tables and row counts (${m.tables.length})`, tables(m.tables)),
        section('Manifest', h('pre', { class: 'mono' }, JSON.stringify(m, null, 2))),
      ]
    },
  )
}
