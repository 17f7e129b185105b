// Run durations over time, one chart per schedule, a colour per outcome.
import { duration } from '../format.js'
import { COLORS } from './colors.js'
import { chartBox, plot } from './plot.js'

const OUTCOMES = ['success', 'failed', 'other']
const OTHER = '#b35900'

function outcomeOf(run) {
  return run.status === 'success' || run.status === 'failed' ? run.status : 'other'
}

/** Runs by schedule, oldest first (the answer lists them newest first). */
function runsBySchedule(runs) {
  const bySchedule = new Map()
  for (const run of runs.slice().reverse()) {
    const list = bySchedule.get(run.schedule) ?? []
    list.push(run)
    bySchedule.set(run.schedule, list)
  }
  return bySchedule
}

export function runCharts(runs) {
  const bySchedule = runsBySchedule(runs)
  return [...bySchedule.keys()].sort().map((name) => {
    const list = bySchedule.get(name)
    const box = chartBox('chart-runs', `${name}: run durations (${list.length})`)
    const draw = () => {
      const xs = list.map((x) => Date.parse(x.startedAt || x.queuedAt) / 1000)
      const ys = OUTCOMES.map((o) =>
        list.map((x) => (outcomeOf(x) === o ? (x.durationMs || 0) / 1000 : null)),
      )
      plot(
        box,
        {
          series: [{}].concat(
            OUTCOMES.map((o) => {
              const color = o === 'other' ? OTHER : COLORS[o]
              return {
                label: o,
                stroke: color,
                fill: color,
                paths: () => null,
                points: { show: true, size: 6, fill: color },
                value: (_u, v) => (v === null ? '-' : duration(v)),
              }
            }),
          ),
          axes: [{}, { values: (_u, vals) => vals.map(duration), size: 60 }],
        },
        [xs].concat(ys),
      )
    }
    return { box, draw }
  })
}
