// The dashboard's parts in this process: the database's up/down state across reads, the
// page's modules as the server serves them, and the report's one script.
import path from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { databaseAfterRead, initialState } from '../src/collect/state.ts'
import { dashboardOptionsSchema } from '../src/options.ts'
import { loadAssets } from '../src/server/assets.ts'
import { overview } from '../src/views/overview.ts'

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute))

test('database state: down since the first failed read, last up kept, up again clears the error', () => {
  const up = databaseAfterRead({ up: null, checkedAt: null }, at(0))
  assert.equal(up, { up: true, checkedAt: at(0).toISOString(), lastUpAt: at(0).toISOString() })
  const down = databaseAfterRead(up, at(1), 'connection refused')
  assert.equal(down, {
    up: false,
    checkedAt: at(1).toISOString(),
    error: 'connection refused',
    downSince: at(1).toISOString(),
    lastUpAt: at(0).toISOString(),
  })
  const still = databaseAfterRead(down, at(2), 'timeout')
  assert.is(still.downSince, at(1).toISOString(), 'down since the first failure')
  assert.is(still.error, 'timeout')
  assert.is(still.lastUpAt, at(0).toISOString())
  const never = databaseAfterRead({ up: null, checkedAt: null }, at(3), 'refused')
  assert.is(never.lastUpAt, undefined, 'never up: no last-up time')
  assert.equal(databaseAfterRead(still, at(4)), {
    up: true,
    checkedAt: at(4).toISOString(),
    lastUpAt: at(4).toISOString(),
  })
})

test('overview of nothing read yet: no health card, no backups, every source stale', () => {
  const state = initialState('app@db:5432/shop', ['local'], '30d')
  const o = overview({
    state,
    schedules: {},
    options: dashboardOptionsSchema.parse({}),
  })
  assert.is(o.health, null)
  assert.equal(o.lastBackups, [])
  assert.is(o.sources.runs.stale, true)
  assert.is(o.sources.backups.local?.stale, true)
  assert.is(o.target, 'app@db:5432/shop')
})

/** The relative imports of a module, resolved against its own path under /assets/. */
function importsOf(file: string, source: string): string[] {
  const specifiers = [...source.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]!)
  return specifiers.map((s) => path.posix.join(path.posix.dirname(file), s))
}

test('the served page: every module it imports is one the server serves, none from elsewhere', () => {
  const { html, modules } = loadAssets()
  assert.match(html, /<script type="module" src="assets\/app\.js"><\/script>/)
  assert.ok(modules.has('app.js'))
  const reached = new Set<string>()
  const visit = (file: string) => {
    if (reached.has(file)) return
    const source = modules.get(file)
    assert.ok(source !== undefined, `${file} is imported but not served`)
    reached.add(file)
    for (const imported of importsOf(file, source)) visit(imported)
  }
  visit('app.js')
  assert.equal([...reached].sort(), [...modules.keys()].sort(), 'every module served is used')
  for (const [file, source] of modules) {
    assert.not.match(source, /\bimport\s*\(/, `${file}: no dynamic import`)
    assert.not.match(source, /from\s+['"](?!\.)/, `${file}: imports only the page's own files`)
  }
})

test('the report script: one classic script (no import or export), strict, every view inside', () => {
  const { reportJs } = loadAssets()
  assert.not.match(reportJs, /^\s*(import|export)\b/m)
  assert.match(reportJs, /^"use strict";/)
  for (const view of ['viewNow', 'viewCharts', 'viewBackup', 'viewRun', 'viewMigrations'])
    assert.ok(reportJs.includes(`function ${view}(`), view)
  assert.not.ok(/<\/script/i.test(reportJs))
})

test.run()
