// Views ask for a new render (a filter changed) by an event, so they need not import the
// router that imports them.
const RENDER_EVENT = 'dbops:render'

export function requestRender() {
  window.dispatchEvent(new Event(RENDER_EVENT))
}

export function onRenderRequest(listener) {
  window.addEventListener(RENDER_EVENT, listener)
}
