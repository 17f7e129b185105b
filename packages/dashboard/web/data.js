// Where the page's data comes from: the server's /api (served page) or the JSON inlined in
// #dbops-report (the self-contained report, which fetches nothing).

const reportElement = document.getElementById('dbops-report')

/** The report's inline data and when it was generated; null on the served page. */
export const REPORT = reportElement ? JSON.parse(reportElement.textContent) : null

/** Every run of the window: the runs and charts views share one answer. */
export const RUNS_PATH = 'api/runs?limit=20000'

/** The answer of an `api/...` path; null when there is none (404, or not in the report). */
export function load(path) {
  if (REPORT) {
    const found = REPORT.data[path]
    return Promise.resolve(found === undefined ? null : found)
  }
  return fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin' }).then(
    (res) => {
      if (res.status === 404) return null
      return res.json().then((body) => {
        if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`)
        return body
      })
    },
  )
}

/** Now, or for a report the moment it was generated: ages read as they did then. */
export function now() {
  return REPORT ? Date.parse(REPORT.generatedAt) : Date.now()
}
