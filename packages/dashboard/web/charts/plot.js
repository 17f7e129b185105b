// Drawing a uPlot chart into a box, over the window of the dashboard or the report.
import { currentMeta } from '../banner.js'
import { now } from '../data.js'
import { empty, h } from '../dom.js'
import { BAND } from './colors.js'

/** A chart box with its title; `draw` fills it once it is in the page (uPlot needs its width). */
export function chartBox(kind, title, attrs) {
  return h('div', { class: `chart ${kind}`, ...attrs }, h('h3', null, title))
}

export function plot(box, options, data) {
  if (!data[0].length) {
    box.append(empty('no data'))
    return
  }
  const width = Math.max(300, box.clientWidth - 16)
  // Every chart spans the same window: the dashboard's (or the report's) period.
  const meta = currentMeta()
  const range = meta ? [Date.parse(meta.since) / 1000, now() / 1000] : null
  const { height, ...rest } = options
  const base = {
    width,
    height: height || 200,
    scales: { x: range ? { time: true, range } : { time: true } },
    legend: { live: true },
    cursor: { drag: { x: true, y: false } },
    ...rest,
  }
  new window.uPlot(base, data, box)
}

/** A health series' status per bucket as a band behind its line (uPlot drawClear hook). */
export function statusBand(u, series) {
  const ctx = u.ctx
  const { top, height } = u.bbox
  for (let i = 0; i < series.t.length; i++) {
    const x0 = u.valToPos(series.t[i], 'x', true)
    const x1 = u.valToPos(series.t[i] + series.bucketSeconds, 'x', true)
    ctx.fillStyle = BAND[series.s[i]] || BAND[1]
    ctx.fillRect(x0, top, Math.max(1, x1 - x0), height)
  }
}
