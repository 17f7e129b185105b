// Routing by the hash, rendering, and the live updates (server-sent events, else polling).
// Part of the dashboard page's script: web/*.js are joined, in the order of ASSET_ORDER (src/server/assets.ts), inside one function scope.
// ---- routing ----

function route() {
  var parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(decodeURIComponent)
  var name = parts[0] || 'now'
  document.querySelectorAll('#nav a').forEach((a) => {
    var r = a.getAttribute('data-route')
    a.classList.toggle(
      'active',
      r === name || (name === 'backup' && r === 'backups') || (name === 'run' && r === 'runs'),
    )
  })
  if (name === 'charts') return viewCharts()
  if (name === 'backups') return viewBackups()
  if (name === 'backup') return viewBackup(parts[1], parts.slice(2).join('/'))
  if (name === 'runs') return viewRuns()
  if (name === 'run') return viewRun(parts[1])
  if (name === 'migrations') return viewMigrations()
  return viewNow()
}

function render() {
  var mine = ++rendering
  var scroll = window.scrollY
  return route().then(
    (result) => {
      if (mine !== rendering) return
      var nodes = result?.nodes ? result.nodes : result
      app.textContent = ''
      append(app, nodes)
      if (result?.after)
        result.after.forEach((draw) => {
          draw()
        })
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

window.addEventListener('hashchange', () => {
  window.scrollTo(0, 0)
  render()
})
render()

// Live: the server says when it has read its sources again; polling if the stream breaks.
if (!REPORT) {
  var poll = null
  var startPolling = () => {
    if (!poll) poll = setInterval(render, (lastMeta?.refreshSeconds || 15) * 1000)
  }
  if (window.EventSource) {
    var events = new EventSource('api/events')
    var first = true
    events.addEventListener('update', () => {
      if (first) {
        first = false
        return
      }
      render()
    })
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) startPolling()
    }
  } else startPolling()
  setInterval(() => {
    if (lastMeta)
      live.textContent = lastMeta.refreshedAt ? `live · read ${ago(lastMeta.refreshedAt)}` : 'live'
  }, 5000)
}
