// Each health check's value over time, its status as a band behind it; worst checks first.
import { value } from '../format.js'
import { chartBox, plot, statusBand } from './plot.js'

const worst = (series) => Math.max(0, ...series.s)

export function healthCharts(history) {
  const manyDatabases = (s) => history.series.some((o) => o.database !== s.database)
  return history.series
    .slice()
    .sort((a, b) => worst(b) - worst(a) || a.title.localeCompare(b.title))
    .map((s) => {
      const title = s.title + (manyDatabases(s) ? ` · ${s.database}` : '')
      const box = chartBox('chart-health', title, { 'data-check': s.check })
      const draw = () => {
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
                value: (_u, v) => value(v, s.unit),
                spanGaps: false,
              },
            ],
            axes: [{}, { values: (_u, vals) => vals.map((v) => value(v, s.unit)), size: 70 }],
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
      }
      return { box, draw }
    })
}
