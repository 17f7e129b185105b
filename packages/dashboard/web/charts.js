// The 'Over time' view: uPlot charts of backups, runs, health and reindex.
// Part of the dashboard page's script: web/*.js are joined, in the order of ASSET_ORDER (src/server/assets.ts), inside one function scope.
// ---- charts ----

function viewCharts() {
  return Promise.all([
    load('api/backups'),
    load('api/health/history'),
    load(RUNS_PATH),
    load('api/reindex'),
  ]).then((r) => {
    var backups = r[0],
      history = r[1],
      runs = r[2],
      reindex = r[3]
    showMeta(backups)
    var out = [h('h1', null, 'Over time')]
    var charts = []
    // Backup size and duration, per database (a set is the same dump in every destination).
    var byDb = {}
    backups.sets.forEach((s) => {
      ;(byDb[s.database] = byDb[s.database] || {})[s.id] = s
    })
    var backupCharts = Object.keys(byDb)
      .sort()
      .map((db) => {
        var sets = Object.keys(byDb[db])
          .map((k) => byDb[db][k])
          .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
        var box = h(
          'div',
          { class: 'chart chart-backup' },
          h('h3', null, `${db}: size and duration`),
        )
        charts.push(() => {
          plot(
            box,
            {
              series: [
                {},
                {
                  label: 'size',
                  stroke: '#0969da',
                  width: 2,
                  scale: 'bytes',
                  value: (u, v) => bytes(v),
                  points: { show: true },
                },
                {
                  label: 'duration',
                  stroke: '#8250df',
                  width: 1,
                  dash: [4, 3],
                  scale: 's',
                  value: (u, v) => duration(v),
                  points: { show: true },
                },
              ],
              axes: [
                {},
                {
                  scale: 'bytes',
                  values: (u, vals) => vals.map(bytes),
                  size: 70,
                },
                {
                  scale: 's',
                  side: 1,
                  grid: { show: false },
                  values: (u, vals) => vals.map(duration),
                  size: 60,
                },
              ],
            },
            [
              sets.map((s) => Date.parse(s.startedAt) / 1000),
              sets.map((s) => s.bytes),
              sets.map((s) => s.durationMs / 1000),
            ],
          )
        })
        return box
      })
    out.push(
      section(
        'Backup size and duration',
        backupCharts.length
          ? h('div', { class: 'charts' }, backupCharts)
          : empty('No backup sets yet.'),
      ),
    )

    // Runs per schedule: duration of each run, colour by outcome.
    var bySchedule = {}
    runs.runs
      .slice()
      .reverse()
      .forEach((x) => {
        ;(bySchedule[x.schedule] = bySchedule[x.schedule] || []).push(x)
      })
    var runCharts = Object.keys(bySchedule)
      .sort()
      .map((name) => {
        var list = bySchedule[name]
        var box = h(
          'div',
          { class: 'chart chart-runs' },
          h('h3', null, `${name}: run durations (${list.length})`),
        )
        var outcomes = ['success', 'failed', 'other']
        charts.push(() => {
          var xs = list.map((x) => Date.parse(x.startedAt || x.queuedAt) / 1000)
          var ys = outcomes.map((o) =>
            list.map((x) => {
              var k = x.status === 'success' || x.status === 'failed' ? x.status : 'other'
              return k === o ? (x.durationMs || 0) / 1000 : null
            }),
          )
          plot(
            box,
            {
              series: [{}].concat(
                outcomes.map((o) => ({
                  label: o,
                  stroke: o === 'other' ? '#b35900' : COLORS[o],
                  fill: o === 'other' ? '#b35900' : COLORS[o],
                  paths: () => null,
                  points: { show: true, size: 6, fill: o === 'other' ? '#b35900' : COLORS[o] },
                  value: (u, v) => (v === null ? '-' : duration(v)),
                })),
              ),
              axes: [
                {},
                {
                  values: (u, vals) => vals.map(duration),
                  size: 60,
                },
              ],
            },
            [xs].concat(ys),
          )
        })
        return box
      })
    out.push(
      section(
        'Runs per schedule',
        runCharts.length
          ? h('div', { class: 'charts' }, runCharts)
          : empty('No scheduled runs recorded.'),
      ),
    )

    // Health: each check's value with its status as a band behind it.
    var worst = (s) => Math.max.apply(null, [0].concat(s.s))
    var healthCharts = history.series
      .slice()
      .sort((a, b) => worst(b) - worst(a) || a.title.localeCompare(b.title))
      .map((s) => {
        var box = h(
          'div',
          { class: 'chart chart-health', 'data-check': s.check },
          h(
            'h3',
            null,
            s.title +
              (history.series.some((o) => o.database !== s.database) ? ` · ${s.database}` : ''),
          ),
        )
        charts.push(() => {
          plot(
            box,
            {
              height: 140,
              series: [
                {},
                {
                  label: s.check,
                  stroke: '#0969da',
                  width: 1.5,
                  value: (u, v) => value(v, s.unit),
                  spanGaps: false,
                },
              ],
              axes: [
                {},
                {
                  values: (u, vals) => vals.map((v) => value(v, s.unit)),
                  size: 70,
                },
              ],
              hooks: {
                drawClear: [
                  (u) => {
                    statusBand(u, s)
                  },
                ],
              },
            },
            [s.t, s.v],
          )
        })
        return box
      })
    out.push(
      section(
        'Health checks over time',
        healthCharts.length
          ? h('div', { class: 'charts' }, healthCharts)
          : empty('No health history recorded yet.'),
      ),
    )

    // Index bloat reclaimed by reindex runs.
    var rx = reindex.runs
    var rxBox = h(
      'div',
      { class: 'chart chart-reindex' },
      h('h3', null, `reclaimed per run (total ${bytes(reindex.reclaimedBytes)})`),
    )
    if (rx.length) {
      charts.push(() => {
        plot(
          rxBox,
          {
            series: [
              {},
              {
                label: 'reclaimed',
                stroke: '#1a7f37',
                fill: 'rgba(26,127,55,0.35)',
                paths: uPlot.paths.bars({ size: [0.6, 24] }),
                value: (u, v) => bytes(v),
              },
            ],
            axes: [
              {},
              {
                values: (u, vals) => vals.map(bytes),
                size: 70,
              },
            ],
          },
          [rx.map((p) => Date.parse(p.at) / 1000), rx.map((p) => p.reclaimedBytes)],
        )
      })
    }
    out.push(
      section(
        'Index bloat reclaimed by reindex runs',
        rx.length
          ? h('div', { class: 'charts' }, rxBox)
          : empty('No reindex:apply step in the recorded runs.'),
      ),
    )
    return { nodes: out, after: charts }
  })
}

function statusBand(u, s) {
  var ctx = u.ctx
  var top = u.bbox.top,
    height = u.bbox.height
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
  var base = {
    width: width,
    height: options.height || 200,
    scales: { x: range ? { time: true, range: range } : { time: true } },
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
  }
  for (var k in options) if (k !== 'height') base[k] = options[k]
  new uPlot(base, data, box)
}
