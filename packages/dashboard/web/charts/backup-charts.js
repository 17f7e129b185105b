// Backup size and duration over time, one chart per database (a set is the same dump in
// every destination, so each set counts once).
import { bytes, duration } from '../format.js'
import { chartBox, plot } from './plot.js'

function setsByDatabase(sets) {
  const byDb = new Map()
  for (const s of sets) {
    const ids = byDb.get(s.database) ?? new Map()
    ids.set(s.id, s)
    byDb.set(s.database, ids)
  }
  return byDb
}

export function backupCharts(sets) {
  const byDb = setsByDatabase(sets)
  return [...byDb.keys()].sort().map((db) => {
    const list = [...byDb.get(db).values()].sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    const box = chartBox('chart-backup', `${db}: size and duration`)
    const draw = () => {
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
              value: (_u, v) => bytes(v),
              points: { show: true },
            },
            {
              label: 'duration',
              stroke: '#8250df',
              width: 1,
              dash: [4, 3],
              scale: 's',
              value: (_u, v) => duration(v),
              points: { show: true },
            },
          ],
          axes: [
            {},
            { scale: 'bytes', values: (_u, vals) => vals.map(bytes), size: 70 },
            {
              scale: 's',
              side: 1,
              grid: { show: false },
              values: (_u, vals) => vals.map(duration),
              size: 60,
            },
          ],
        },
        [
          list.map((s) => Date.parse(s.startedAt) / 1000),
          list.map((s) => s.bytes),
          list.map((s) => s.durationMs / 1000),
        ],
      )
    }
    return { box, draw }
  })
}
