// The colours of statuses and outcomes, the same as the pills'.
export const COLORS = {
  ok: '#1a7f37',
  warning: '#b35900',
  critical: '#cf222e',
  unknown: '#6e7781',
  success: '#1a7f37',
  failed: '#cf222e',
  lost: '#cf222e',
  aborted: '#b35900',
  running: '#0969da',
  queued: '#b35900',
}

/** Behind a health chart, by bucket status: 0 ok, 1 unknown, 2 warning, 3 critical. */
export const BAND = [
  'rgba(26,127,55,0.10)',
  'rgba(110,119,129,0.22)',
  'rgba(179,89,0,0.25)',
  'rgba(207,34,46,0.30)',
]
