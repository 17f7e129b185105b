// Index bloat reclaimed by each reindex run, as bars.
import { bytes } from '../format.js'
import { chartBox, plot } from './plot.js'

export function reindexCharts(reindex) {
  const runs = reindex.runs
  if (!runs.length) return []
  const box = chartBox(
    'chart-reindex',
    `reclaimed per run (total ${bytes(reindex.reclaimedBytes)})`,
  )
  const draw = () => {
    plot(
      box,
      {
        series: [
          {},
          {
            label: 'reclaimed',
            stroke: '#1a7f37',
            fill: 'rgba(26,127,55,0.35)',
            paths: window.uPlot.paths.bars({ size: [0.6, 24] }),
            value: (_u, v) => bytes(v),
          },
        ],
        axes: [{}, { values: (_u, vals) => vals.map(bytes), size: 70 }],
      },
      [runs.map((p) => Date.parse(p.at) / 1000), runs.map((p) => p.reclaimedBytes)],
    )
  }
  return [{ box, draw }]
}
