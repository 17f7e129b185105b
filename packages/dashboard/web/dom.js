// Building the page: elements with attributes and children, text only through textContent.

/** An element: `on*` attributes become listeners; null, undefined and false are left out. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key.slice(0, 2) === 'on') el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value)
  }
  for (const child of children) append(el, child)
  return el
}

/** Appends a node, a text or (nested) lists of them. */
export function append(el, kid) {
  if (kid === undefined || kid === null || kid === false) return
  if (Array.isArray(kid)) {
    for (const k of kid) append(el, k)
    return
  }
  el.append(kid instanceof Node ? kid : String(kid))
}

export function pill(status) {
  return h('span', { class: `pill ${status}` }, status)
}

export function table(head, rows, attrs) {
  return h(
    'table',
    attrs || {},
    h(
      'thead',
      null,
      h(
        'tr',
        null,
        head.map((c) => h('th', null, c)),
      ),
    ),
    h('tbody', null, rows),
  )
}

export function td(content, cls) {
  return h('td', cls ? { class: cls } : null, content)
}

export function section(title, content) {
  return [h('h2', null, title), content]
}

export function empty(text) {
  return h('p', { class: 'muted' }, text)
}
