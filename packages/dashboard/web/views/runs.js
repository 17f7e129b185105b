// "Runs": the scheduled runs of the window, filtered by schedule, newest 500 shown.
import { showMeta } from '../banner.js'
import { load, RUNS_PATH } from '../data.js'
import { empty, h } from '../dom.js'
import { sessionFilter } from './filter.js'
import { runsTable } from './runs-table.js'

const SHOWN = 500

export function viewRuns() {
  return load(RUNS_PATH).then((r) => {
    showMeta(r)
    const schedules = Array.from(new Set(r.runs.map((x) => x.schedule))).sort()
    const pick = sessionFilter('schedule-filter', 'dbops.schedule', 'every schedule', schedules)
    const rows = r.runs.filter((x) => !pick.value || x.schedule === pick.value)
    return [
      h('h1', null, 'Scheduled runs'),
      h(
        'div',
        { class: 'filters' },
        'Schedule ',
        pick,
        h(
          'span',
          { class: 'muted' },
          `${rows.length} of ${r.total} runs${rows.length > SHOWN ? ` (newest ${SHOWN} shown)` : ''}`,
        ),
      ),
      rows.length
        ? runsTable(rows.slice(0, SHOWN))
        : empty(
            r.sources.runs.recorded
              ? 'No runs in this window.'
              : 'No run history: `dbops watch` records scheduled runs in dbops.runs.',
          ),
    ]
  })
}
