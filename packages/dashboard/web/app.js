/*
 * The dbops dashboard page: one script for the served page (it fetches /api/...) and for the
 * self-contained report (its data is inline in #dbops-report). Plain DOM, text only through
 * textContent, uPlot for the charts. Routes live in the hash: #/, #/charts, #/backups,
 * #/backup/<destination>/<id>, #/runs, #/run/<id>, #/migrations.
 */
;(function () {
  'use strict'

  var reportEl = document.getElementById('dbops-report')
  var REPORT = reportEl ? JSON.parse(reportEl.textContent) : null
  var RUNS_PATH = 'api/runs?limit=20000'
  var COLORS = { ok: '#1a7f37', warning: '#b35900', critical: '#cf222e', unknown: '#6e7781', success: '#1a7f37', failed: '#cf222e', lost: '#cf222e', aborted: '#b35900', running: '#0969da', queued: '#b35900' }
  var BAND = ['rgba(26,127,55,0.10)', 'rgba(110,119,129,0.22)', 'rgba(179,89,0,0.25)', 'rgba(207,34,46,0.30)']
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
    return fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }).then(function (res) {
      if (res.status === 404) return null
      return res.json().then(function (body) {
        if (!res.ok) throw new Error((body && body.error && body.error.message) || 'HTTP ' + res.status)
        return body
      })
    })
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
    if (Array.isArray(kid)) return kid.forEach(function (k) { append(el, k) })
    el.append(kid instanceof Node ? kid : String(kid))
  }
  function enc(s) { return encodeURIComponent(s) }
  function pill(status) { return h('span', { class: 'pill ' + status }, status) }
  function table(head, rows, attrs) {
    return h('table', attrs || {}, h('thead', null, h('tr', null, head.map(function (c) { return h('th', null, c) }))), h('tbody', null, rows))
  }
  function td(content, cls) { return h('td', cls ? { class: cls } : null, content) }
  function section(title, content) { return [h('h2', null, title), content] }
  function empty(text) { return h('p', { class: 'muted' }, text) }

  function bytes(n) {
    if (n === null || n === undefined) return '-'
    var units = ['B', 'KB', 'MB', 'GB', 'TB']
    var i = 0
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
    return (i === 0 ? n : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i]
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return '-'
    seconds = Math.abs(seconds)
    if (seconds === 0) return '0s'
    if (seconds < 1) return Math.round(seconds * 1000) + ' ms'
    if (seconds < 60) return (seconds < 10 ? seconds.toFixed(1) : Math.round(seconds)) + 's'
    if (seconds < 3600) return Math.floor(seconds / 60) + 'm ' + Math.round(seconds % 60) + 's'
    if (seconds < 86400) return Math.floor(seconds / 3600) + 'h ' + Math.round((seconds % 3600) / 60) + 'm'
    return Math.floor(seconds / 86400) + 'd ' + Math.round((seconds % 86400) / 3600) + 'h'
  }
  function now() { return REPORT ? Date.parse(REPORT.generatedAt) : Date.now() }
  function ago(iso) {
    if (!iso) return '-'
    var s = (now() - Date.parse(iso)) / 1000
    return s < 0 ? 'in ' + duration(-s) : duration(s) + ' ago'
  }
  function when(iso) { return iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-' }
  function value(v, unit) {
    if (v === null || v === undefined) return '-'
    if (unit === 'seconds') return duration(v)
    if (unit === 'ms') return v >= 10000 ? duration(v / 1000) : Math.round(v) + ' ms'
    if (unit === 'percent') return (Math.round(v * 10) / 10) + '%'
    if (unit === 'bytes') return bytes(v)
    if (unit === 'rate') return (Math.round(v * 10) / 10) + '/h'
    if (unit === 'version') return String(v)
    return Number.isInteger(v) ? v.toLocaleString('en-US') : String(Math.round(v * 10) / 10)
  }
  function level(set) {
    var v = set.lastVerification
    if (v && v.status === 'failed') return h('span', { class: 'pill failed', title: v.detail || '' }, 'FAILED (' + v.method + ')')
    if (set.provenLevel) return h('span', { class: 'pill verified' }, set.provenLevel)
    return h('span', { class: 'pill skipped' }, 'not verified')
  }
  function setLink(set, text) { return h('a', { href: '#/backup/' + enc(set.destination) + '/' + enc(set.id), class: 'set-link' }, text || set.id) }
  function runLink(run, text) { return h('a', { href: '#/run/' + enc(run.id), class: 'run-link' }, text || run.id.slice(0, 8)) }

  // ---- banner and live line ----

  function showMeta(meta) {
    lastMeta = meta
    banner.textContent = ''
    if (REPORT) banner.append(h('div', { class: 'banner report' }, 'Report of ' + meta.target + ', generated ' + when(REPORT.generatedAt) + ', covering since ' + when(REPORT.since) + '.'))
    var db = meta.database
    if (db && db.up === false) {
      banner.append(h('div', { class: 'banner down', id: 'db-down' }, 'The database is unreachable since ' + when(db.downSince) + ' (' + (db.error || 'no answer') + '). ' +
        (db.lastUpAt ? 'Showing what was read at ' + when(db.lastUpAt) + '.' : 'Nothing was read from it yet.')))
    }
    var stale = []
    var src = meta.sources || {}
    if (src.health && src.health.error && !(db && db.up === false)) stale.push('health history: ' + src.health.error)
    Object.keys(src.backups || {}).forEach(function (name) { if (src.backups[name].error) stale.push('backups in ' + name + ': ' + src.backups[name].error + (src.backups[name].at ? ' (shown as of ' + when(src.backups[name].at) + ')' : '')) })
    if (src.migrations && src.migrations.error) stale.push('migrations: ' + src.migrations.error)
    if (stale.length) banner.append(h('div', { class: 'banner stale' }, 'Could not read ' + stale.join('; ')))
    live.textContent = REPORT ? 'report' : (meta.refreshedAt ? 'live · read ' + ago(meta.refreshedAt) : 'live')
  }

  // ---- views ----

  function viewNow() {
    return Promise.all([load('api/overview'), load('api/health')]).then(function (r) {
      var o = r[0]
      var checks = (r[1] && r[1].checks) || []
      showMeta(o)
      var out = [h('h1', null, 'Now · ' + o.target)]
      out.push(h('div', { class: 'cards' }, [
        h('div', { class: 'card', id: 'card-health', 'data-at': o.health ? o.health.at : '' }, h('div', { class: 'muted' }, 'Health'),
          o.health ? [h('div', { class: 'big' }, pill(o.health.status)), h('div', { class: 'hint' }, 'checked ' + ago(o.health.at) + ' · ' + Object.keys(o.health.counts).map(function (k) { return o.health.counts[k] + ' ' + k }).join(', '))]
            : h('div', { class: 'hint' }, o.sources.health.recorded ? 'no results yet' : 'no health history recorded: run the health:check task (a schedule)')),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Backups'), h('div', { class: 'big' }, String(o.lastBackups.length ? o.lastBackups.reduce(function (n, b) { return n + b.sets }, 0) : 0)),
          h('div', { class: 'hint' }, o.databases.length + ' database(s); ' + o.lastBackups.filter(function (b) { return b.stale }).length + ' stale')),
        h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Runs'), h('div', { class: 'big' }, String(o.running.length) + ' running'),
          h('div', { class: 'hint' + (o.recentFailures.length ? ' red' : '') }, o.recentFailures.length + ' failed in the last days')),
        o.migrations ? h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Migrations'), h('div', { class: 'big' }, pill(o.migrations.status === 'up-to-date' ? 'ok' : o.migrations.status === 'pending' ? 'warning' : 'critical')),
          h('div', { class: 'hint' }, o.migrations.applied + ' applied, ' + o.migrations.pending + ' pending, ' + o.migrations.drifted + ' drifted')) : null,
      ]))

      out.push(section('Health checks', checks.length ? healthTable(checks) : empty('No health results recorded yet. The health:check task records each run (see @dbops/health).')))

      var proofDays = o.thresholds.restoreProofMaxAgeDays
      out.push(section('Last backup per database and destination', o.lastBackups.length ? table(
        ['database', 'destination', 'set', 'age', 'size', 'duration', 'verified', 'last restore proof'],
        o.lastBackups.map(function (b) {
          return h('tr', { class: 'last-backup' }, td(b.database), td(b.destination), td(setLink(b), 'mono'),
            td(h('span', { class: b.stale ? 'red' : '' }, ago(b.finishedAt))), td(bytes(b.bytes), 'num'), td(duration(b.durationMs / 1000), 'num'), td(level(b)),
            td(h('span', { class: b.restoreProofStale ? 'red restore-proof' : 'restore-proof', title: 'red past ' + proofDays + ' days' }, b.lastRestoreProofAt ? ago(b.lastRestoreProofAt) : 'never')))
        })) : empty('No backup sets in any destination.')))
      if (o.incomplete.length) {
        out.push(section('Incomplete backups (no manifest: failed, or still running)', table(['destination', 'folder', 'state'], o.incomplete.map(function (i) {
          return h('tr', { class: 'incomplete' }, td(i.destination), td(i.prefix, 'mono'), td([pill('failed'), ' ', i.kind === 'unreadable' ? 'manifest unreadable: ' + (i.error || '') : 'no manifest']))
        }))))
      }
      out.push(section('Schedules', o.schedules.length ? table(['schedule', 'cron', 'runs', 'next run', 'last run'], o.schedules.map(function (s) {
        return h('tr', null, td(s.name), td(s.cron + (s.timezone ? ' (' + s.timezone + ')' : ''), 'mono'), td(s.run.join(', ')), td(s.next ? ago(s.next) + ' · ' + when(s.next) : '-'),
          td(s.last ? [pill(s.last.status), ' ', runLink(s.last, ago(s.last.endedAt || s.last.queuedAt))] : 'never'))
      })) : empty('The config has no schedules.')))
      out.push(section('Running', o.running.length ? runsTable(o.running) : empty('Nothing is running.')))
      out.push(section('Recently failed', o.recentFailures.length ? runsTable(o.recentFailures, true) : empty('No failed runs in the last ' + (o.thresholds ? '' : '') + 'days.')))
      return out
    })
  }

  function healthTable(checks) {
    var order = { critical: 0, warning: 1, unknown: 2, ok: 3, skipped: 4 }
    checks = checks.slice().sort(function (a, b) { return order[a.status] - order[b.status] || a.check.localeCompare(b.check) })
    var many = new Set(checks.map(function (c) { return c.database })).size > 1
    return table(['status', 'check'].concat(many ? ['database'] : [], ['value', 'message', 'since']), checks.map(function (c) {
      var bad = c.status !== 'ok' && c.status !== 'skipped'
      return h('tr', { class: 'check check-' + c.status, 'data-check': c.check }, td(pill(c.status)), td([c.title, h('div', { class: 'hint mono' }, c.check)]), many ? td(c.database) : null, td(value(c.value, c.unit), 'num'),
        td([c.message || '', bad && c.hint ? h('div', { class: 'hint' }, c.hint) : null]), td(bad && c.notOkSince ? 'not OK for ' + ago(c.notOkSince).replace(' ago', '') : c.at ? ago(c.at) : '-'))
    }), { id: 'health-table' })
  }

  function runsTable(runs, withError) {
    return table(['started', 'schedule', 'status', 'duration', 'watcher'].concat(withError !== false ? ['error'] : []), runs.map(function (r) {
      var d = r.durationMs !== null ? duration(r.durationMs / 1000) : r.status === 'running' && r.startedAt ? duration((now() - Date.parse(r.startedAt)) / 1000) + '…' : '-'
      return h('tr', { class: 'run run-' + r.status }, td(runLink(r, when(r.startedAt || r.queuedAt))), td(r.schedule), td(pill(r.status)), td(d, 'num'), td(r.host + ':' + r.pid, 'mono'),
        withError !== false ? td(r.error ? h('span', { class: 'error' }, r.error.split('\n')[0]) : '') : null)
    }))
  }

  function viewBackups() {
    return load('api/backups').then(function (b) {
      showMeta(b)
      var databases = Array.from(new Set(b.sets.map(function (s) { return s.database }))).sort()
      var pick = h('select', { id: 'db-filter', onchange: function () { render() } }, h('option', { value: '' }, 'every database'), databases.map(function (d) { return h('option', { value: d }, d) }))
      var wanted = sessionStorage.getItem('dbops.db') || ''
      pick.value = databases.indexOf(wanted) >= 0 ? wanted : ''
      pick.addEventListener('change', function () { sessionStorage.setItem('dbops.db', pick.value) })
      var sets = b.sets.filter(function (s) { return !pick.value || s.database === pick.value })
      var out = [h('h1', null, 'Backup sets'), h('div', { class: 'filters' }, 'Database ', pick, h('span', { class: 'muted' }, sets.length + ' sets'))]
      out.push(sets.length ? table(['set', 'database', 'destination', 'started', 'size', 'duration', 'format', 'encrypted', 'verified', 'tags'], sets.map(function (s) {
        return h('tr', { class: 'set' + (s.lastVerification && s.lastVerification.status === 'failed' ? ' set-failed' : '') }, td(setLink(s), 'mono'), td(s.database), td(s.destination), td(when(s.startedAt)), td(bytes(s.bytes), 'num'),
          td(duration(s.durationMs / 1000), 'num'), td(s.format + ' · ' + s.compression), td(s.encrypted ? 'age' : 'no'), td(level(s)), td(s.tags.join(', ')))
      }), { id: 'backups-table' }) : empty('No backup sets.'))
      if (b.incomplete.length) out.push(section('Incomplete (no manifest)', table(['destination', 'folder'], b.incomplete.map(function (i) { return h('tr', { class: 'incomplete' }, td(i.destination), td([pill('failed'), ' ', i.prefix], 'mono')) }))))
      return out
    })
  }

  function viewBackup(destination, id) {
    return load('api/backups/' + enc(destination) + '/' + enc(id)).then(function (d) {
      if (!d) return [h('h1', null, 'Backup set ' + id), empty(REPORT ? 'This set is listed, but its details are not included in this report.' : 'No such set in ' + destination + ' (as last read).')]
      showMeta(d)
      var s = d.set
      var m = d.manifest
      return [
        h('h1', { id: 'set-title' }, 'Backup set ' + s.id),
        h('div', { class: 'cards' },
          h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Database'), h('div', { class: 'big' }, s.database), h('div', { class: 'hint' }, 'server ' + m.serverVersion + ' · pg_dump ' + m.pgDumpVersion)),
          h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Size'), h('div', { class: 'big' }, bytes(s.bytes)), h('div', { class: 'hint' }, s.format + ', ' + s.compression + (s.encrypted ? ', age-encrypted' : ', not encrypted'))),
          h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Taken'), h('div', { class: 'big' }, ago(s.finishedAt)), h('div', { class: 'hint' }, when(s.startedAt) + ' · ' + duration(s.durationMs / 1000))),
          h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Verified'), h('div', { class: 'big' }, level(s)), h('div', { class: 'hint' }, s.restoreProvenAt ? 'restore proven ' + ago(s.restoreProvenAt) : 'never restored'))),
        section('Copies', table(['destination', 'location', 'last verification'], d.copies.map(function (c) {
          return h('tr', null, td(c.destination), td([c.location, h('div', { class: 'hint' }, c.prefix)], 'mono'), td(c.lastVerification ? [pill(c.lastVerification.status), ' ', c.lastVerification.method + ' · ' + ago(c.lastVerification.at)] : 'never'))
        }))),
        section('Verification history', m.verification.length ? table(['when', 'status', 'proof', 'detail'], m.verification.slice().reverse().map(function (v) {
          return h('tr', { class: 'verification' }, td(when(v.at)), td(pill(v.status)), td(v.method), td(v.detail || ''))
        })) : empty('Never verified.')),
        section('Objects and checksums', table(['object', 'role', 'size', 'sha256'], m.objects.map(function (o) {
          return h('tr', null, td(o.name, 'mono'), td(o.role), td(bytes(o.size), 'num'), td(o.sha256, 'mono'))
        }))),
        section('Tables and row counts (' + m.tables.length + ')', m.tables.length ? table(['table', 'rows', 'counted'], m.tables.map(function (t) {
          return h('tr', null, td(t.schema + '.' + t.name, 'mono'), td(t.rows.toLocaleString('en-US'), 'num'), td(t.exact ? 'exact' : 'estimate'))
        })) : empty('No tables recorded.')),
        section('Manifest', h('pre', { class: 'mono' }, JSON.stringify(m, null, 2))),
      ]
    })
  }

  function viewRuns() {
    return load(RUNS_PATH).then(function (r) {
      showMeta(r)
      var schedules = Array.from(new Set(r.runs.map(function (x) { return x.schedule }))).sort()
      var pick = h('select', { id: 'schedule-filter' }, h('option', { value: '' }, 'every schedule'), schedules.map(function (s) { return h('option', { value: s }, s) }))
      pick.value = schedules.indexOf(sessionStorage.getItem('dbops.schedule') || '') >= 0 ? sessionStorage.getItem('dbops.schedule') : ''
      pick.addEventListener('change', function () { sessionStorage.setItem('dbops.schedule', pick.value); render() })
      var rows = r.runs.filter(function (x) { return !pick.value || x.schedule === pick.value })
      return [h('h1', null, 'Scheduled runs'), h('div', { class: 'filters' }, 'Schedule ', pick, h('span', { class: 'muted' }, rows.length + ' of ' + r.total + ' runs' + (rows.length > 500 ? ' (newest 500 shown)' : ''))),
        rows.length ? runsTable(rows.slice(0, 500)) : empty(r.sources.runs.recorded ? 'No runs in this window.' : 'No run history: `dbops watch` records scheduled runs in dbops.runs.')]
    })
  }

  function viewRun(id) {
    return load('api/runs/' + enc(id)).then(function (d) {
      if (!d) return [h('h1', null, 'Run ' + id), empty(REPORT ? 'This run is listed, but its details are not included in this report.' : 'No such run (as last read).')]
      showMeta(d)
      var r = d.run
      return [
        h('h1', null, 'Run ' + r.id.slice(0, 8) + ' of ' + r.schedule),
        table(['status', 'pipelines', 'tick', 'started', 'ended', 'duration', 'watcher', 'tags'], [h('tr', null, td(pill(r.status)), td(r.pipelines.join(', ')), td(when(r.tick)), td(when(r.startedAt)), td(when(r.endedAt)),
          td(r.durationMs !== null ? duration(r.durationMs / 1000) : '-', 'num'), td(r.host + ':' + r.pid, 'mono'), td(r.tags.join(', ')))]),
        r.error ? section('Error', h('pre', { class: 'error' }, r.error)) : null,
        section('Steps', r.steps ? (r.steps.length ? table(['step', 'status', 'duration', 'summary', 'error'], r.steps.map(function (s) {
          return h('tr', { class: 'step' }, td([s.title, h('div', { class: 'hint mono' }, s.id)]), td(pill(s.status)), td(duration(s.durationMs / 1000), 'num'), td(s.summary || ''), td(s.error ? h('span', { class: 'error' }, s.error) : ''))
        })) : empty('The run ended before its first step.')) : empty('This run was recorded by a watcher that did not keep steps.')),
      ]
    })
  }

  function viewMigrations() {
    return load('api/migrations').then(function (d) {
      showMeta(d)
      var m = d.migrations
      if (!m) return [h('h1', null, 'Migrations'), empty('The config has no migrate plugin (or its status could not be read yet).')]
      var rows = []
      m.drifted.forEach(function (x) { rows.push(h('tr', { class: 'migration' }, td(pill('critical')), td('drifted'), td(x.file, 'mono'), td('changed since it was applied at ' + when(x.appliedAt)))) })
      m.missing.forEach(function (x) { rows.push(h('tr', { class: 'migration' }, td(pill('critical')), td('missing'), td(x.name, 'mono'), td('applied at ' + when(x.appliedAt) + ', no longer on disk'))) })
      m.partial.forEach(function (x) { rows.push(h('tr', { class: 'migration' }, td(pill('warning')), td('partial'), td(x.file, 'mono'), td((x.statementsApplied || 0) + '/' + (x.statementsTotal || '?') + ' statements' + (x.error ? ': ' + x.error : '')))) })
      m.pending.forEach(function (x) { rows.push(h('tr', { class: 'migration' }, td(pill('warning')), td('pending'), td(x.file, 'mono'), td(x.outOfOrder ? 'out of order' : ''))) })
      m.applied.slice().reverse().forEach(function (x) { rows.push(h('tr', { class: 'migration' }, td(pill('ok')), td(x.baseline ? 'baseline' : 'applied'), td(x.file, 'mono'), td(when(x.appliedAt) + (x.durationMs !== null ? ' · ' + duration(x.durationMs / 1000) : '')))) })
      return [h('h1', null, 'Migrations · ' + m.ledger), h('p', null, pill(m.status === 'up-to-date' ? 'ok' : m.status === 'pending' ? 'warning' : 'critical'), ' ', m.applied.length + ' applied, ' + m.pending.length + ' pending, ' + m.drifted.length + ' drifted, ' + m.missing.length + ' missing'),
        table(['', 'state', 'file', 'detail'], rows, { id: 'migrations-table' })]
    })
  }

  // ---- charts ----

  function viewCharts() {
    return Promise.all([load('api/backups'), load('api/health/history'), load(RUNS_PATH), load('api/reindex')]).then(function (r) {
      var backups = r[0], history = r[1], runs = r[2], reindex = r[3]
      showMeta(backups)
      var out = [h('h1', null, 'Over time')]
      var charts = []
      // Backup size and duration, per database (a set is the same dump in every destination).
      var byDb = {}
      backups.sets.forEach(function (s) { (byDb[s.database] = byDb[s.database] || {})[s.id] = s })
      var backupCharts = Object.keys(byDb).sort().map(function (db) {
        var sets = Object.keys(byDb[db]).map(function (k) { return byDb[db][k] }).sort(function (a, b) { return a.startedAt.localeCompare(b.startedAt) })
        var box = h('div', { class: 'chart chart-backup' }, h('h3', null, db + ': size and duration'))
        charts.push(function () {
          plot(box, {
            series: [{}, { label: 'size', stroke: '#0969da', width: 2, scale: 'bytes', value: function (u, v) { return bytes(v) }, points: { show: true } },
              { label: 'duration', stroke: '#8250df', width: 1, dash: [4, 3], scale: 's', value: function (u, v) { return duration(v) }, points: { show: true } }],
            axes: [{}, { scale: 'bytes', values: function (u, vals) { return vals.map(bytes) }, size: 70 }, { scale: 's', side: 1, grid: { show: false }, values: function (u, vals) { return vals.map(duration) }, size: 60 }],
          }, [sets.map(function (s) { return Date.parse(s.startedAt) / 1000 }), sets.map(function (s) { return s.bytes }), sets.map(function (s) { return s.durationMs / 1000 })])
        })
        return box
      })
      out.push(section('Backup size and duration', backupCharts.length ? h('div', { class: 'charts' }, backupCharts) : empty('No backup sets yet.')))

      // Runs per schedule: duration of each run, colour by outcome.
      var bySchedule = {}
      runs.runs.slice().reverse().forEach(function (x) { (bySchedule[x.schedule] = bySchedule[x.schedule] || []).push(x) })
      var runCharts = Object.keys(bySchedule).sort().map(function (name) {
        var list = bySchedule[name]
        var box = h('div', { class: 'chart chart-runs' }, h('h3', null, name + ': run durations (' + list.length + ')'))
        var outcomes = ['success', 'failed', 'other']
        charts.push(function () {
          var xs = list.map(function (x) { return Date.parse(x.startedAt || x.queuedAt) / 1000 })
          var ys = outcomes.map(function (o) { return list.map(function (x) { var k = x.status === 'success' || x.status === 'failed' ? x.status : 'other'; return k === o ? (x.durationMs || 0) / 1000 : null }) })
          plot(box, {
            series: [{}].concat(outcomes.map(function (o) { return { label: o, stroke: o === 'other' ? '#b35900' : COLORS[o], fill: o === 'other' ? '#b35900' : COLORS[o], paths: function () { return null }, points: { show: true, size: 6, fill: o === 'other' ? '#b35900' : COLORS[o] }, value: function (u, v) { return v === null ? '-' : duration(v) } } })),
            axes: [{}, { values: function (u, vals) { return vals.map(duration) }, size: 60 }],
          }, [xs].concat(ys))
        })
        return box
      })
      out.push(section('Runs per schedule', runCharts.length ? h('div', { class: 'charts' }, runCharts) : empty('No scheduled runs recorded.')))

      // Health: each check's value with its status as a band behind it.
      var worst = function (s) { return Math.max.apply(null, [0].concat(s.s)) }
      var healthCharts = history.series.slice().sort(function (a, b) { return worst(b) - worst(a) || a.title.localeCompare(b.title) }).map(function (s) {
        var box = h('div', { class: 'chart chart-health', 'data-check': s.check }, h('h3', null, s.title + (history.series.some(function (o) { return o.database !== s.database }) ? ' · ' + s.database : '')))
        charts.push(function () {
          plot(box, {
            height: 140,
            series: [{}, { label: s.check, stroke: '#0969da', width: 1.5, value: function (u, v) { return value(v, s.unit) }, spanGaps: false }],
            axes: [{}, { values: function (u, vals) { return vals.map(function (v) { return value(v, s.unit) }) }, size: 70 }],
            hooks: { drawClear: [function (u) { statusBand(u, s) }] },
          }, [s.t, s.v])
        })
        return box
      })
      out.push(section('Health checks over time', healthCharts.length ? h('div', { class: 'charts' }, healthCharts) : empty('No health history recorded yet.')))

      // Index bloat reclaimed by reindex runs.
      var rx = reindex.runs
      var rxBox = h('div', { class: 'chart chart-reindex' }, h('h3', null, 'reclaimed per run (total ' + bytes(reindex.reclaimedBytes) + ')'))
      if (rx.length) {
        charts.push(function () {
          plot(rxBox, {
            series: [{}, { label: 'reclaimed', stroke: '#1a7f37', fill: 'rgba(26,127,55,0.35)', paths: uPlot.paths.bars({ size: [0.6, 24] }), value: function (u, v) { return bytes(v) } }],
            axes: [{}, { values: function (u, vals) { return vals.map(bytes) }, size: 70 }],
          }, [rx.map(function (p) { return Date.parse(p.at) / 1000 }), rx.map(function (p) { return p.reclaimedBytes })])
        })
      }
      out.push(section('Index bloat reclaimed by reindex runs', rx.length ? h('div', { class: 'charts' }, rxBox) : empty('No reindex:apply step in the recorded runs.')))
      return { nodes: out, after: charts }
    })
  }

  function statusBand(u, s) {
    var ctx = u.ctx
    var top = u.bbox.top, height = u.bbox.height
    for (var i = 0; i < s.t.length; i++) {
      var x0 = u.valToPos(s.t[i], 'x', true)
      var x1 = u.valToPos(s.t[i] + s.bucketSeconds, 'x', true)
      ctx.fillStyle = BAND[s.s[i]] || BAND[1]
      ctx.fillRect(x0, top, Math.max(1, x1 - x0), height)
    }
  }

  function plot(box, options, data) {
    if (!data[0].length) return box.append(empty('no data'))
    var width = Math.max(300, box.clientWidth - 16)
    // Every chart spans the same window: the dashboard's (or the report's) period.
    var range = lastMeta ? [Date.parse(lastMeta.since) / 1000, now() / 1000] : null
    var base = { width: width, height: options.height || 200, scales: { x: range ? { time: true, range: range } : { time: true } }, legend: { live: true }, cursor: { drag: { x: true, y: false } } }
    for (var k in options) if (k !== 'height') base[k] = options[k]
    new uPlot(base, data, box)
  }

  // ---- routing ----

  function route() {
    var parts = (location.hash.replace(/^#\/?/, '') || '').split('/').map(decodeURIComponent)
    var name = parts[0] || 'now'
    document.querySelectorAll('#nav a').forEach(function (a) {
      var r = a.getAttribute('data-route')
      a.classList.toggle('active', r === name || (name === 'backup' && r === 'backups') || (name === 'run' && r === 'runs'))
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
    return route().then(function (result) {
      if (mine !== rendering) return
      var nodes = result && result.nodes ? result.nodes : result
      app.textContent = ''
      append(app, nodes)
      if (result && result.after) result.after.forEach(function (draw) { draw() })
      window.scrollTo(0, scroll)
      document.body.setAttribute('data-rendered', String(mine))
    }, function (error) {
      if (mine !== rendering) return
      app.textContent = ''
      app.append(h('p', { class: 'error', id: 'load-error' }, 'Could not load: ' + error.message))
      document.body.setAttribute('data-rendered', String(mine))
    })
  }

  window.addEventListener('hashchange', function () { window.scrollTo(0, 0); render() })
  render()

  // Live: the server says when it has read its sources again; polling if the stream breaks.
  if (!REPORT) {
    var poll = null
    var startPolling = function () { if (!poll) poll = setInterval(render, ((lastMeta && lastMeta.refreshSeconds) || 15) * 1000) }
    if (window.EventSource) {
      var events = new EventSource('api/events')
      var first = true
      events.addEventListener('update', function () { if (first) { first = false; return } render() })
      events.onerror = function () { if (events.readyState === EventSource.CLOSED) startPolling() }
    } else startPolling()
    setInterval(function () { if (lastMeta) live.textContent = lastMeta.refreshedAt ? 'live · read ' + ago(lastMeta.refreshedAt) : 'live' }, 5000)
  }
})()
