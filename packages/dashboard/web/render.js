// Routing by the hash: which view a route shows, and drawing it into #app. Routes: #/,
// #/charts, #/backups, #/backup/<destination>/<id>, #/runs, #/run/<id>, #/migrations.
import { append, h } from './dom.js'
import { viewBackup } from './views/backup-set.js'
import { viewBackups } from './views/backups.js'
import { viewCharts } from './views/charts.js'
import { viewMigrations } from './views/migrations.js'
import { viewNow } from './views/now.js'
import { viewRun } from './views/run.js'
import { viewRuns } from './views/runs.js'

const app = document.getElementById('app')
let rendering = 0

function route() {
  const parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(decodeURIComponent)
  const name = parts[0] || 'now'
  for (const a of document.querySelectorAll('#nav a')) {
    const r = a.getAttribute('data-route')
    a.classList.toggle(
      'active',
      r === name || (name === 'backup' && r === 'backups') || (name === 'run' && r === 'runs'),
    )
  }
  if (name === 'charts') return viewCharts()
  if (name === 'backups') return viewBackups()
  if (name === 'backup') return viewBackup(parts[1], parts.slice(2).join('/'))
  if (name === 'runs') return viewRuns()
  if (name === 'run') return viewRun(parts[1])
  if (name === 'migrations') return viewMigrations()
  return viewNow()
}

/**
 * Draws the current route. A render overtaken by a newer one is dropped; each finished
 * render sets body[data-rendered], which tests wait for.
 */
export function render() {
  rendering++
  const mine = rendering
  const scroll = window.scrollY
  return route().then(
    (result) => {
      if (mine !== rendering) return
      const nodes = result?.nodes ? result.nodes : result
      app.textContent = ''
      append(app, nodes)
      for (const draw of result?.after ?? []) draw()
      window.scrollTo(0, scroll)
      document.body.setAttribute('data-rendered', String(mine))
    },
    (error) => {
      if (mine !== rendering) return
      app.textContent = ''
      app.append(h('p', { class: 'error', id: 'load-error' }, `Could not load: ${error.message}`))
      document.body.setAttribute('data-rendered', String(mine))
    },
  )
}
