// The views: Now, backups, a backup set, runs, a run, migrations.
// Part of the dashboard page's script: web/*.js are joined, in the order of ASSET_ORDER (src/server/assets.ts), inside one function scope.
// ---- views ----

function viewNow() {
  return Promise.all([load('api/overview'), load('api/health')]).then((r) => {
    var o = r[0]
    var checks = r[1]?.checks || []
    showMeta(o)
    var out = [h('h1', null, `Now · ${o.target}`)]
    out.push(
      h('div', { class: 'cards' }, [
        h(
          'div',
          { class: 'card', id: 'card-health', 'data-at': o.health ? o.health.at : '' },
          h('div', { class: 'muted' }, 'Health'),
          o.health
            ? [
                h('div', { class: 'big' }, pill(o.health.status)),
                h(
                  'div',
                  { class: 'hint' },
                  'checked ' +
                    ago(o.health.at) +
                    ' · ' +
                    Object.keys(o.health.counts)
                      .map((k) => `${o.health.counts[k]} ${k}`)
                      .join(', '),
                ),
              ]
            : h(
                'div',
                { class: 'hint' },
                o.sources.health.recorded
                  ? 'no results yet'
                  : 'no health history recorded: run the health:check task (a schedule)',
              ),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Backups'),
          h(
            'div',
            { class: 'big' },
            String(o.lastBackups.length ? o.lastBackups.reduce((n, b) => n + b.sets, 0) : 0),
          ),
          h(
            'div',
            { class: 'hint' },
            o.databases.length +
              ' database(s); ' +
              o.lastBackups.filter((b) => b.stale).length +
              ' stale',
          ),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Runs'),
          h('div', { class: 'big' }, `${String(o.running.length)} running`),
          h(
            'div',
            { class: `hint${o.recentFailures.length ? ' red' : ''}` },
            `${o.recentFailures.length} failed in the last days`,
          ),
        ),
        o.migrations
          ? h(
              'div',
              { class: 'card' },
              h('div', { class: 'muted' }, 'Migrations'),
              h(
                'div',
                { class: 'big' },
                pill(
                  o.migrations.status === 'up-to-date'
                    ? 'ok'
                    : o.migrations.status === 'pending'
                      ? 'warning'
                      : 'critical',
                ),
              ),
              h(
                'div',
                { class: 'hint' },
                o.migrations.applied +
                  ' applied, ' +
                  o.migrations.pending +
                  ' pending, ' +
                  o.migrations.drifted +
                  ' drifted',
              ),
            )
          : null,
      ]),
    )

    out.push(
      section(
        'Health checks',
        checks.length
          ? healthTable(checks)
          : empty(
              'No health results recorded yet. The health:check task records each run (see @dbops/health).',
            ),
      ),
    )

    var proofDays = o.thresholds.restoreProofMaxAgeDays
    out.push(
      section(
        'Last backup per database and destination',
        o.lastBackups.length
          ? table(
              [
                'database',
                'destination',
                'set',
                'age',
                'size',
                'duration',
                'verified',
                'last restore proof',
              ],
              o.lastBackups.map((b) =>
                h(
                  'tr',
                  { class: 'last-backup' },
                  td(b.database),
                  td(b.destination),
                  td(setLink(b), 'mono'),
                  td(h('span', { class: b.stale ? 'red' : '' }, ago(b.finishedAt))),
                  td(bytes(b.bytes), 'num'),
                  td(duration(b.durationMs / 1000), 'num'),
                  td(level(b)),
                  td(
                    h(
                      'span',
                      {
                        class: b.restoreProofStale ? 'red restore-proof' : 'restore-proof',
                        title: `red past ${proofDays} days`,
                      },
                      b.lastRestoreProofAt ? ago(b.lastRestoreProofAt) : 'never',
                    ),
                  ),
                ),
              ),
            )
          : empty('No backup sets in any destination.'),
      ),
    )
    if (o.incomplete.length) {
      out.push(
        section(
          'Incomplete backups (no manifest: failed, or still running)',
          table(
            ['destination', 'folder', 'state'],
            o.incomplete.map((i) =>
              h(
                'tr',
                { class: 'incomplete' },
                td(i.destination),
                td(i.prefix, 'mono'),
                td([
                  pill('failed'),
                  ' ',
                  i.kind === 'unreadable' ? `manifest unreadable: ${i.error || ''}` : 'no manifest',
                ]),
              ),
            ),
          ),
        ),
      )
    }
    out.push(
      section(
        'Schedules',
        o.schedules.length
          ? table(
              ['schedule', 'cron', 'runs', 'next run', 'last run'],
              o.schedules.map((s) =>
                h(
                  'tr',
                  null,
                  td(s.name),
                  td(s.cron + (s.timezone ? ` (${s.timezone})` : ''), 'mono'),
                  td(s.run.join(', ')),
                  td(s.next ? `${ago(s.next)} · ${when(s.next)}` : '-'),
                  td(
                    s.last
                      ? [
                          pill(s.last.status),
                          ' ',
                          runLink(s.last, ago(s.last.endedAt || s.last.queuedAt)),
                        ]
                      : 'never',
                  ),
                ),
              ),
            )
          : empty('The config has no schedules.'),
      ),
    )
    out.push(
      section('Running', o.running.length ? runsTable(o.running) : empty('Nothing is running.')),
    )
    out.push(
      section(
        'Recently failed',
        o.recentFailures.length
          ? runsTable(o.recentFailures, true)
          : empty(`No failed runs in the last ${o.thresholds ? '' : ''}days.`),
      ),
    )
    return out
  })
}

function healthTable(checks) {
  var order = { critical: 0, warning: 1, unknown: 2, ok: 3, skipped: 4 }
  checks = checks
    .slice()
    .sort((a, b) => order[a.status] - order[b.status] || a.check.localeCompare(b.check))
  var many = new Set(checks.map((c) => c.database)).size > 1
  return table(
    ['status', 'check'].concat(many ? ['database'] : [], ['value', 'message', 'since']),
    checks.map((c) => {
      var bad = c.status !== 'ok' && c.status !== 'skipped'
      return h(
        'tr',
        { class: `check check-${c.status}`, 'data-check': c.check },
        td(pill(c.status)),
        td([c.title, h('div', { class: 'hint mono' }, c.check)]),
        many ? td(c.database) : null,
        td(value(c.value, c.unit), 'num'),
        td([c.message || '', bad && c.hint ? h('div', { class: 'hint' }, c.hint) : null]),
        td(
          bad && c.notOkSince
            ? `not OK for ${ago(c.notOkSince).replace(' ago', '')}`
            : c.at
              ? ago(c.at)
              : '-',
        ),
      )
    }),
    { id: 'health-table' },
  )
}

function runsTable(runs, withError) {
  return table(
    ['started', 'schedule', 'status', 'duration', 'watcher'].concat(
      withError !== false ? ['error'] : [],
    ),
    runs.map((r) => {
      var d =
        r.durationMs !== null
          ? duration(r.durationMs / 1000)
          : r.status === 'running' && r.startedAt
            ? `${duration((now() - Date.parse(r.startedAt)) / 1000)}…`
            : '-'
      return h(
        'tr',
        { class: `run run-${r.status}` },
        td(runLink(r, when(r.startedAt || r.queuedAt))),
        td(r.schedule),
        td(pill(r.status)),
        td(d, 'num'),
        td(`${r.host}:${r.pid}`, 'mono'),
        withError !== false
          ? td(r.error ? h('span', { class: 'error' }, r.error.split('\n')[0]) : '')
          : null,
      )
    }),
  )
}

function viewBackups() {
  return load('api/backups').then((b) => {
    showMeta(b)
    var databases = Array.from(new Set(b.sets.map((s) => s.database))).sort()
    var pick = h(
      'select',
      {
        id: 'db-filter',
        onchange: () => {
          render()
        },
      },
      h('option', { value: '' }, 'every database'),
      databases.map((d) => h('option', { value: d }, d)),
    )
    var wanted = sessionStorage.getItem('dbops.db') || ''
    pick.value = databases.indexOf(wanted) >= 0 ? wanted : ''
    pick.addEventListener('change', () => {
      sessionStorage.setItem('dbops.db', pick.value)
    })
    var sets = b.sets.filter((s) => !pick.value || s.database === pick.value)
    var out = [
      h('h1', null, 'Backup sets'),
      h(
        'div',
        { class: 'filters' },
        'Database ',
        pick,
        h('span', { class: 'muted' }, `${sets.length} sets`),
      ),
    ]
    out.push(
      sets.length
        ? table(
            [
              'set',
              'database',
              'destination',
              'started',
              'size',
              'duration',
              'format',
              'encrypted',
              'verified',
              'tags',
            ],
            sets.map((s) =>
              h(
                'tr',
                {
                  class:
                    'set' +
                    ((s.lastVerification && s.lastVerification.status === 'failed') ||
                    s.damaged?.length
                      ? ' set-failed'
                      : ''),
                },
                td(setLink(s), 'mono'),
                td(s.database),
                td(s.destination),
                td(when(s.startedAt)),
                td(bytes(s.bytes), 'num'),
                td(duration(s.durationMs / 1000), 'num'),
                td(`${s.format} · ${s.compression}`),
                td(s.encrypted ? 'age' : 'no'),
                td(level(s)),
                td(s.tags.join(', ')),
              ),
            ),
            { id: 'backups-table' },
          )
        : empty('No backup sets.'),
    )
    if (b.incomplete.length)
      out.push(
        section(
          'Incomplete (no manifest)',
          table(
            ['destination', 'folder'],
            b.incomplete.map((i) =>
              h(
                'tr',
                { class: 'incomplete' },
                td(i.destination),
                td([pill('failed'), ' ', i.prefix], 'mono'),
              ),
            ),
          ),
        ),
      )
    return out
  })
}

function viewBackup(destination, id) {
  return load(`api/backups/${enc(destination)}/${enc(id)}`).then((d) => {
    if (!d)
      return [
        h('h1', null, `Backup set ${id}`),
        empty(
          REPORT
            ? 'This set is listed, but its details are not included in this report.'
            : `No such set in ${destination} (as last read).`,
        ),
      ]
    showMeta(d)
    var s = d.set
    var m = d.manifest
    return [
      h('h1', { id: 'set-title' }, `Backup set ${s.id}`),
      h(
        'div',
        { class: 'cards' },
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Database'),
          h('div', { class: 'big' }, s.database),
          h('div', { class: 'hint' }, `server ${m.serverVersion} · pg_dump ${m.pgDumpVersion}`),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Size'),
          h('div', { class: 'big' }, bytes(s.bytes)),
          h(
            'div',
            { class: 'hint' },
            `${s.format}, ${s.compression}${s.encrypted ? ', age-encrypted' : ', not encrypted'}`,
          ),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Taken'),
          h('div', { class: 'big' }, ago(s.finishedAt)),
          h('div', { class: 'hint' }, `${when(s.startedAt)} · ${duration(s.durationMs / 1000)}`),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'muted' }, 'Verified'),
          h('div', { class: 'big' }, level(s)),
          h(
            'div',
            { class: 'hint' },
            s.restoreProvenAt ? `restore proven ${ago(s.restoreProvenAt)}` : 'never restored',
          ),
        ),
      ),
      section(
        'Copies',
        table(
          ['destination', 'location', 'last verification'],
          d.copies.map((c) =>
            h(
              'tr',
              null,
              td(c.destination),
              td([c.location, h('div', { class: 'hint' }, c.prefix)], 'mono'),
              td(
                c.lastVerification
                  ? [
                      pill(c.lastVerification.status),
                      ' ',
                      `${c.lastVerification.method} · ${ago(c.lastVerification.at)}`,
                    ]
                  : 'never',
              ),
            ),
          ),
        ),
      ),
      section(
        'Verification history',
        m.verification.length
          ? table(
              ['when', 'status', 'proof', 'detail'],
              m.verification
                .slice()
                .reverse()
                .map((v) =>
                  h(
                    'tr',
                    { class: 'verification' },
                    td(when(v.at)),
                    td(pill(v.status)),
                    td(v.method),
                    td(v.detail || ''),
                  ),
                ),
            )
          : empty('Never verified.'),
      ),
      section(
        'Objects and checksums',
        table(
          ['object', 'role', 'size', 'sha256'],
          m.objects.map((o) =>
            h(
              'tr',
              null,
              td(o.name, 'mono'),
              td(o.role),
              td(bytes(o.size), 'num'),
              td(o.sha256, 'mono'),
            ),
          ),
        ),
      ),
      section(
        `Tables and row counts (${m.tables.length})`,
        m.tables.length
          ? table(
              ['table', 'rows', 'counted'],
              m.tables.map((t) =>
                h(
                  'tr',
                  null,
                  td(`${t.schema}.${t.name}`, 'mono'),
                  td(t.rows.toLocaleString('en-US'), 'num'),
                  td(t.exact ? 'exact' : 'estimate'),
                ),
              ),
            )
          : empty('No tables recorded.'),
      ),
      section('Manifest', h('pre', { class: 'mono' }, JSON.stringify(m, null, 2))),
    ]
  })
}

function viewRuns() {
  return load(RUNS_PATH).then((r) => {
    showMeta(r)
    var schedules = Array.from(new Set(r.runs.map((x) => x.schedule))).sort()
    var pick = h(
      'select',
      { id: 'schedule-filter' },
      h('option', { value: '' }, 'every schedule'),
      schedules.map((s) => h('option', { value: s }, s)),
    )
    pick.value =
      schedules.indexOf(sessionStorage.getItem('dbops.schedule') || '') >= 0
        ? sessionStorage.getItem('dbops.schedule')
        : ''
    pick.addEventListener('change', () => {
      sessionStorage.setItem('dbops.schedule', pick.value)
      render()
    })
    var rows = r.runs.filter((x) => !pick.value || x.schedule === pick.value)
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
          rows.length +
            ' of ' +
            r.total +
            ' runs' +
            (rows.length > 500 ? ' (newest 500 shown)' : ''),
        ),
      ),
      rows.length
        ? runsTable(rows.slice(0, 500))
        : empty(
            r.sources.runs.recorded
              ? 'No runs in this window.'
              : 'No run history: `dbops watch` records scheduled runs in dbops.runs.',
          ),
    ]
  })
}

function viewRun(id) {
  return load(`api/runs/${enc(id)}`).then((d) => {
    if (!d)
      return [
        h('h1', null, `Run ${id}`),
        empty(
          REPORT
            ? 'This run is listed, but its details are not included in this report.'
            : 'No such run (as last read).',
        ),
      ]
    showMeta(d)
    var r = d.run
    return [
      h('h1', null, `Run ${r.id.slice(0, 8)} of ${r.schedule}`),
      table(
        ['status', 'pipelines', 'tick', 'started', 'ended', 'duration', 'watcher', 'tags'],
        [
          h(
            'tr',
            null,
            td(pill(r.status)),
            td(r.pipelines.join(', ')),
            td(when(r.tick)),
            td(when(r.startedAt)),
            td(when(r.endedAt)),
            td(r.durationMs !== null ? duration(r.durationMs / 1000) : '-', 'num'),
            td(`${r.host}:${r.pid}`, 'mono'),
            td(r.tags.join(', ')),
          ),
        ],
      ),
      r.error ? section('Error', h('pre', { class: 'error' }, r.error)) : null,
      section(
        'Steps',
        r.steps
          ? r.steps.length
            ? table(
                ['step', 'status', 'duration', 'summary', 'error'],
                r.steps.map((s) =>
                  h(
                    'tr',
                    { class: 'step' },
                    td([s.title, h('div', { class: 'hint mono' }, s.id)]),
                    td(pill(s.status)),
                    td(duration(s.durationMs / 1000), 'num'),
                    td(s.summary || ''),
                    td(s.error ? h('span', { class: 'error' }, s.error) : ''),
                  ),
                ),
              )
            : empty('The run ended before its first step.')
          : empty('This run was recorded by a watcher that did not keep steps.'),
      ),
    ]
  })
}

function viewMigrations() {
  return load('api/migrations').then((d) => {
    showMeta(d)
    var m = d.migrations
    if (!m)
      return [
        h('h1', null, 'Migrations'),
        empty('The config has no migrate plugin (or its status could not be read yet).'),
      ]
    var rows = []
    m.drifted.forEach((x) => {
      rows.push(
        h(
          'tr',
          { class: 'migration' },
          td(pill('critical')),
          td('drifted'),
          td(x.file, 'mono'),
          td(`changed since it was applied at ${when(x.appliedAt)}`),
        ),
      )
    })
    m.missing.forEach((x) => {
      rows.push(
        h(
          'tr',
          { class: 'migration' },
          td(pill('critical')),
          td('missing'),
          td(x.name, 'mono'),
          td(`applied at ${when(x.appliedAt)}, no longer on disk`),
        ),
      )
    })
    m.partial.forEach((x) => {
      rows.push(
        h(
          'tr',
          { class: 'migration' },
          td(pill('warning')),
          td('partial'),
          td(x.file, 'mono'),
          td(
            (x.statementsApplied || 0) +
              '/' +
              (x.statementsTotal || '?') +
              ' statements' +
              (x.error ? `: ${x.error}` : ''),
          ),
        ),
      )
    })
    m.pending.forEach((x) => {
      rows.push(
        h(
          'tr',
          { class: 'migration' },
          td(pill('warning')),
          td('pending'),
          td(x.file, 'mono'),
          td(x.outOfOrder ? 'out of order' : ''),
        ),
      )
    })
    m.applied
      .slice()
      .reverse()
      .forEach((x) => {
        rows.push(
          h(
            'tr',
            { class: 'migration' },
            td(pill('ok')),
            td(x.baseline ? 'baseline' : 'applied'),
            td(x.file, 'mono'),
            td(
              when(x.appliedAt) +
                (x.durationMs !== null ? ` · ${duration(x.durationMs / 1000)}` : ''),
            ),
          ),
        )
      })
    return [
      h('h1', null, `Migrations · ${m.ledger}`),
      h(
        'p',
        null,
        pill(m.status === 'up-to-date' ? 'ok' : m.status === 'pending' ? 'warning' : 'critical'),
        ' ',
        m.applied.length +
          ' applied, ' +
          m.pending.length +
          ' pending, ' +
          m.drifted.length +
          ' drifted, ' +
          m.missing.length +
          ' missing',
      ),
      table(['', 'state', 'file', 'detail'], rows, { id: 'migrations-table' }),
    ]
  })
}
