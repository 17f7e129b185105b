// The banners above every view (report, database down, sources that could not be read) and
// the live line in the header, from the meta part of the last answer.
import { REPORT } from './data.js'
import { h } from './dom.js'
import { ago, when } from './format.js'

const banner = document.getElementById('banner')
const live = document.getElementById('live')
let lastMeta = null

/** The meta of the last answer shown: its window, refresh period and read time. */
export function currentMeta() {
  return lastMeta
}

/** `live · read 4s ago`: refreshed by the live updates between renders. */
export function showLiveLine() {
  if (!lastMeta) return
  live.textContent = lastMeta.refreshedAt ? `live · read ${ago(lastMeta.refreshedAt)}` : 'live'
}

function staleSources(meta, databaseDown) {
  const stale = []
  const src = meta.sources || {}
  if (src.health?.error && !databaseDown) stale.push(`health history: ${src.health.error}`)
  for (const [name, backups] of Object.entries(src.backups || {})) {
    if (backups.error)
      stale.push(
        `backups in ${name}: ${backups.error}` +
          (backups.at ? ` (shown as of ${when(backups.at)})` : ''),
      )
  }
  if (src.migrations?.error) stale.push(`migrations: ${src.migrations.error}`)
  return stale
}

export function showMeta(meta) {
  lastMeta = meta
  banner.textContent = ''
  if (REPORT)
    banner.append(
      h(
        'div',
        { class: 'banner report' },
        `Report of ${meta.target}, generated ${when(REPORT.generatedAt)}, covering since ${when(REPORT.since)}.`,
      ),
    )
  const db = meta.database
  const down = db && db.up === false
  if (down) {
    banner.append(
      h(
        'div',
        { class: 'banner down', id: 'db-down' },
        `The database is unreachable since ${when(db.downSince)} (${db.error || 'no answer'}). ` +
          (db.lastUpAt
            ? `Showing what was read at ${when(db.lastUpAt)}.`
            : 'Nothing was read from it yet.'),
      ),
    )
  }
  const stale = staleSources(meta, down)
  if (stale.length)
    banner.append(h('div', { class: 'banner stale' }, `Could not read ${stale.join('; ')}`))
  if (REPORT) live.textContent = 'report'
  else showLiveLine()
}
