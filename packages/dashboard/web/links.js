// Links to a backup set's and a run's own page, and a set's verification badge.
import { h } from './dom.js'

export function setLink(set, text) {
  return h(
    'a',
    {
      href: `#/backup/${encodeURIComponent(set.destination)}/${encodeURIComponent(set.id)}`,
      class: 'set-link',
    },
    text || set.id,
  )
}

export function runLink(run, text) {
  return h(
    'a',
    { href: `#/run/${encodeURIComponent(run.id)}`, class: 'run-link' },
    text || run.id.slice(0, 8),
  )
}

/** What a set's verifications proved: FAILED, DAMAGED, the strongest proof, or not verified. */
export function verificationBadge(set) {
  const v = set.lastVerification
  if (v && v.status === 'failed')
    return h('span', { class: 'pill failed', title: v.detail || '' }, `FAILED (${v.method})`)
  if (set.damaged?.length)
    return h('span', { class: 'pill failed', title: set.damaged.join('; ') }, 'DAMAGED')
  if (set.provenLevel) return h('span', { class: 'pill verified' }, set.provenLevel)
  return h('span', { class: 'pill skipped' }, 'not verified')
}
