// Data loading (fetch, or the report's inline data), DOM building and formatting.
// Part of the dashboard page's script: web/*.js are joined, in the order of ASSET_ORDER (src/server/assets.ts), inside one function scope.
var reportEl = document.getElementById('dbops-report')
var REPORT = reportEl ? JSON.parse(reportEl.textContent) : null
var RUNS_PATH = 'api/runs?limit=20000'
var COLORS = {
  ok: '#1a7f37',
  warning: '#b35900',
  critical: '#cf222e',
  unknown: '#6e7781',
  success: '#1a7f37',
  failed: '#cf222e',
  lost: '#cf222e',
  aborted: '#b35900',
  running: '#0969da',
  queued: '#b35900',
}
var BAND = [
  'rgba(26,127,55,0.10)',
  'rgba(110,119,129,0.22)',
  'rgba(179,89,0,0.25)',
  'rgba(207,34,46,0.30)',
]
var app = document.getElementById('app')
var banner = document.getElementById('banner')
var live = document.getElementById('live')
var lastMeta = null
var rendering = 0

// ---- data ----

function load(path) {
  if (REPORT) {
    var found = REPORT.data[path]
    return Promise.resolve(found === undefined ? null : found)
  }
  return fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }).then(
    (res) => {
      if (res.status === 404) return null
      return res.json().then((body) => {
        if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`)
        return body
      })
    },
  )
}

// ---- small helpers ----

function h(tag, attrs) {
  var el = document.createElement(tag)
  for (var key in attrs || {}) {
    var value = attrs[key]
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key.slice(0, 2) === 'on') el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value)
  }
  for (var i = 2; i < arguments.length; i++) append(el, arguments[i])
  return el
}
function append(el, kid) {
  if (kid === undefined || kid === null || kid === false) return
  if (Array.isArray(kid))
    return kid.forEach((k) => {
      append(el, k)
    })
  el.append(kid instanceof Node ? kid : String(kid))
}
function enc(s) {
  return encodeURIComponent(s)
}
function pill(status) {
  return h('span', { class: `pill ${status}` }, status)
}
function table(head, rows, attrs) {
  return h(
    'table',
    attrs || {},
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c) => h('th', null, c)),
      ),
    ),
    h('tbody', null, rows),
  )
}
function td(content, cls) {
  return h('td', cls ? { class: cls } : null, content)
}
function section(title, content) {
  return [h('h2', null, title), content]
}
function empty(text) {
  return h('p', { class: 'muted' }, text)
}

function bytes(n) {
  if (n === null || n === undefined) return '-'
  var units = ['B', 'KB', 'MB', 'GB', 'TB']
  var i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)} ${units[i]}`
}
function duration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) return '-'
  seconds = Math.abs(seconds)
  if (seconds === 0) return '0s'
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h ${Math.round((seconds % 3600) / 60)}m`
  return `${Math.floor(seconds / 86400)}d ${Math.round((seconds % 86400) / 3600)}h`
}
function now() {
  return REPORT ? Date.parse(REPORT.generatedAt) : Date.now()
}
function ago(iso) {
  if (!iso) return '-'
  var s = (now() - Date.parse(iso)) / 1000
  return s < 0 ? `in ${duration(-s)}` : `${duration(s)} ago`
}
function when(iso) {
  return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-'
}
function value(v, unit) {
  if (v === null || v === undefined) return '-'
  if (unit === 'seconds') return duration(v)
  if (unit === 'ms') return v >= 10000 ? duration(v / 1000) : `${Math.round(v)} ms`
  if (unit === 'percent') return `${Math.round(v * 10) / 10}%`
  if (unit === 'bytes') return bytes(v)
  if (unit === 'rate') return `${Math.round(v * 10) / 10}/h`
  if (unit === 'version') return String(v)
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 10) / 10)
}
function level(set) {
  var v = set.lastVerification
  if (v && v.status === 'failed')
    return h('span', { class: 'pill failed', title: v.detail || '' }, `FAILED (${v.method})`)
  if (set.damaged?.length)
    return h('span', { class: 'pill failed', title: set.damaged.join('; ') }, 'DAMAGED')
  if (set.provenLevel) return h('span', { class: 'pill verified' }, set.provenLevel)
  return h('span', { class: 'pill skipped' }, 'not verified')
}
function setLink(set, text) {
  return h(
    'a',
    { href: `#/backup/${enc(set.destination)}/${enc(set.id)}`, class: 'set-link' },
    text || set.id,
  )
}
function runLink(run, text) {
  return h('a', { href: `#/run/${enc(run.id)}`, class: 'run-link' }, text || run.id.slice(0, 8))
}

// ---- banner and live line ----

function showMeta(meta) {
  lastMeta = meta
  banner.textContent = ''
  if (REPORT)
    banner.append(
      h(
        'div',
        { class: 'banner report' },
        'Report of ' +
          meta.target +
          ', generated ' +
          when(REPORT.generatedAt) +
          ', covering since ' +
          when(REPORT.since) +
          '.',
      ),
    )
  var db = meta.database
  if (db && db.up === false) {
    banner.append(
      h(
        'div',
        { class: 'banner down', id: 'db-down' },
        'The database is unreachable since ' +
          when(db.downSince) +
          ' (' +
          (db.error || 'no answer') +
          '). ' +
          (db.lastUpAt
            ? `Showing what was read at ${when(db.lastUpAt)}.`
            : 'Nothing was read from it yet.'),
      ),
    )
  }
  var stale = []
  var src = meta.sources || {}
  if (src.health?.error && !(db && db.up === false))
    stale.push(`health history: ${src.health.error}`)
  Object.keys(src.backups || {}).forEach((name) => {
    if (src.backups[name].error)
      stale.push(
        'backups in ' +
          name +
          ': ' +
          src.backups[name].error +
          (src.backups[name].at ? ` (shown as of ${when(src.backups[name].at)})` : ''),
      )
  })
  if (src.migrations?.error) stale.push(`migrations: ${src.migrations.error}`)
  if (stale.length)
    banner.append(h('div', { class: 'banner stale' }, `Could not read ${stale.join('; ')}`))
  live.textContent = REPORT
    ? 'report'
    : meta.refreshedAt
      ? `live · read ${ago(meta.refreshedAt)}`
      : 'live'
}
