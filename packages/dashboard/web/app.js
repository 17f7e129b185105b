/*
 * The dbops dashboard page, for the served page (it fetches /api/...) and, bundled into one
 * script, for the self-contained report (its data is inline in #dbops-report). Plain DOM,
 * text only through textContent, uPlot (loaded before this module) for the charts.
 */
import { REPORT } from './data.js'
import { followUpdates } from './live.js'
import { render } from './render.js'
import { onRenderRequest } from './rerender.js'

window.addEventListener('hashchange', () => {
  window.scrollTo(0, 0)
  void render()
})
onRenderRequest(() => {
  void render()
})
void render()
if (!REPORT) followUpdates()
