// A select that filters a view, remembered for the session.
import { h } from '../dom.js'
import { requestRender } from '../rerender.js'

/** `<select>` of `every <what>` and each value; the choice is kept under `key` in sessionStorage. */
export function sessionFilter(id, key, every, values) {
  const pick = h(
    'select',
    { id },
    h('option', { value: '' }, every),
    values.map((v) => h('option', { value: v }, v)),
  )
  const wanted = sessionStorage.getItem(key) || ''
  pick.value = values.indexOf(wanted) >= 0 ? wanted : ''
  pick.addEventListener('change', () => {
    sessionStorage.setItem(key, pick.value)
    requestRender()
  })
  return pick
}
