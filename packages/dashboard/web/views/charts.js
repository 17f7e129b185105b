// "Over time": backups, runs, health and reindex as charts, drawn once the page holds them.
import { showMeta } from '../banner.js'
import { backupCharts } from '../charts/backup-charts.js'
import { healthCharts } from '../charts/health-charts.js'
import { reindexCharts } from '../charts/reindex-chart.js'
import { runCharts } from '../charts/run-charts.js'
import { load, RUNS_PATH } from '../data.js'
import { empty, h, section } from '../dom.js'

function chartSection(title, charts, nothing, draws) {
  for (const c of charts) draws.push(c.draw)
  return section(
    title,
    charts.length
      ? h(
          'div',
          { class: 'charts' },
          charts.map((c) => c.box),
        )
      : empty(nothing),
  )
}

export function viewCharts() {
  return Promise.all([
    load('api/backups'),
    load('api/health/history'),
    load(RUNS_PATH),
    load('api/reindex'),
  ]).then(([backups, history, runs, reindex]) => {
    showMeta(backups)
    const draws = []
    const nodes = [
      h('h1', null, 'Over time'),
      chartSection(
        'Backup size and duration',
        backupCharts(backups.sets),
        'No backup sets yet.',
        draws,
      ),
      chartSection('Runs per schedule', runCharts(runs.runs), 'No scheduled runs recorded.', draws),
      chartSection(
        'Health checks over time',
        healthCharts(history),
        'No health history recorded yet.',
        draws,
      ),
      chartSection(
        'Index bloat reclaimed by reindex runs',
        reindexCharts(reindex),
        'No reindex:apply step in the recorded runs.',
        draws,
      ),
    ]
    return { nodes, after: draws }
  })
}
