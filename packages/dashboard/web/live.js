// Live updates of the served page: the server says when it has read its sources again
// (server-sent events); polling every refresh period if the stream breaks.
import { currentMeta, showLiveLine } from './banner.js'
import { render } from './render.js'

export function followUpdates() {
  let poll = null
  const startPolling = () => {
    if (!poll) poll = setInterval(render, (currentMeta()?.refreshSeconds || 15) * 1000)
  }
  if (window.EventSource) {
    const events = new EventSource('api/events')
    let first = true
    events.addEventListener('update', () => {
      // The first event only says the stream is open: the page was just drawn.
      if (first) {
        first = false
        return
      }
      void render()
    })
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) startPolling()
    }
  } else startPolling()
  setInterval(showLiveLine, 5000)
}
