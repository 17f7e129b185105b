// The engine's parts in this process: an outcome becoming a result (thresholds, listing,
// unknown), the selection of checks, the run's connections against a real PostgreSQL, and a
// whole health:check run at each concurrency through dbops/testing.
import health from '@dbops/health'
import { Db } from 'dbops/plugin'
import { createTestDatabase, runTask, type TestDatabase } from 'dbops/testing'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { CATALOG } from '../src/checks/index.ts'
import { runConnections } from '../src/engine/connections.ts'
import { checkResult, unknownResult } from '../src/engine/result.ts'
import { selectChecks } from '../src/engine/select.ts'
import { healthOptionsSchema, type HealthOptionsInput } from '../src/options.ts'
import type { CheckDefinition, CheckOutcome, CheckResult, HealthReport } from '../src/types.ts'

let db: TestDatabase

test.before(async () => {
  db = await createTestDatabase('health_engine')
})

test.after(async () => {
  await db?.drop()
})

const check = (id: string): CheckDefinition => CATALOG.find((c) => c.id === id)!
const options = (input: HealthOptionsInput = {}) => healthOptionsSchema.parse(input)

const RESULT_CASES: {
  name: string
  check: string
  options?: HealthOptionsInput
  outcome: CheckOutcome
  expect: Partial<CheckResult>
}[] = [
  {
    name: 'no value, no findings: 0, OK, nothing to report',
    check: 'deadlocks',
    outcome: {},
    expect: { status: 'ok', value: 0, message: 'nothing to report', total: 0 },
  },
  {
    name: 'a value past critical is critical, with the hint',
    check: 'connection',
    outcome: { value: 2500 },
    expect: { status: 'critical', value: 2500, hint: check('connection').hint },
  },
  {
    name: 'findings: the worst one is the value, each judged on its own',
    check: 'long_queries',
    options: { checks: { long_queries: { warning: 60, critical: 600 } } },
    outcome: {
      findings: [
        { object: 'a', value: 30 },
        { object: 'b', value: 700 },
        { object: 'c', value: 90 },
      ],
    },
    expect: { status: 'critical', value: 700, total: 3, message: '3 found; worst 11m 40s' },
  },
  {
    name: 'direction below: the lowest finding is the worst',
    check: 'cache_hit_ratio',
    options: { checks: { cache_hit_ratio: { warning: 95, critical: 90 } } },
    outcome: {
      findings: [
        { object: 'a', value: 99 },
        { object: 'b', value: 93 },
      ],
    },
    expect: { status: 'warning', value: 93 },
  },
  {
    name: 'the listing is cut to the limit, the total stays complete',
    check: 'invalid_indexes',
    options: { limit: 2 },
    outcome: {
      value: 5,
      total: 5,
      findings: [1, 2, 3, 4, 5].map((n) => ({ object: `i${n}`, value: 1 })),
    },
    expect: { status: 'warning', total: 5 },
  },
  {
    name: 'an OK that could not see everything is UNKNOWN, with the reason',
    check: 'long_queries',
    outcome: { value: 0, unknownReason: '2 sessions of other roles are invisible' },
    expect: {
      status: 'unknown',
      reason: '2 sessions of other roles are invisible',
      message: 'nothing to report; 2 sessions of other roles are invisible',
    },
  },
  {
    name: 'skipped: no value, no display, no hint',
    check: 'archiver',
    outcome: { status: 'skipped', message: 'archive_mode is off' },
    expect: { status: 'skipped', value: null, display: '-', reason: 'archive_mode is off' },
  },
]

for (const c of RESULT_CASES)
  test(`checkResult: ${c.name}`, () => {
    const result = checkResult(check(c.check), options(c.options), c.outcome, 12)
    for (const [key, value] of Object.entries(c.expect))
      assert.equal(result[key as keyof CheckResult], value, key)
    assert.ok(result.findings.length <= options(c.options).limit)
    if (result.status === 'ok' || result.status === 'skipped') assert.is(result.hint, undefined)
    assert.is(result.durationMs, 12)
  })

test('unknownResult: UNKNOWN, no display, the message is the reason', () => {
  const result = unknownResult(check('vacuum'), options(), 'not checked: no connection')
  assert.is(result.status, 'unknown')
  assert.is(result.display, '-')
  assert.is(result.reason, 'not checked: no connection')
  assert.is(result.durationMs, 0)
})

test('selectChecks: enabled ones by default; only and skip narrow; the run adds to the config', () => {
  const ids = (list: CheckDefinition[]) => list.map((c) => c.id)
  assert.equal(ids(selectChecks(options())), ids(CATALOG))
  const configured = options({ checks: { amcheck: { enabled: false } }, skip: ['seq_scans'] })
  const all = ids(selectChecks(configured))
  assert.not.ok(all.includes('amcheck'))
  assert.not.ok(all.includes('seq_scans'))
  assert.is(all.length, CATALOG.length - 2)
  assert.equal(ids(selectChecks(configured, { only: ['amcheck', 'seq_scans', 'pool'] })), [
    'amcheck',
    'pool',
  ])
  assert.equal(ids(selectChecks(configured, { skip: ['pool'] })).includes('pool'), false)
})

test('connections: a client given back is taken again; a dropped one is destroyed; releaseAll returns every one', async () => {
  const pool = new Db(
    { url: db.url, applicationName: 'health-engine-test' },
    {
      max: 3,
      idleTimeoutMs: 10_000,
      maxLifetimeMs: 0,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 5000,
      statementTimeoutMs: 0,
    },
  )
  try {
    const connections = runConnections({ db: pool, signal: new AbortController().signal })
    const a = await connections.take()
    connections.give(a)
    assert.is(await connections.take(), a, 'the idle client is reused')
    const b = await connections.take()
    assert.is.not(b, a)
    assert.is(pool.stats().total, 2)
    connections.drop(b, new Error('in doubt'))
    assert.is(pool.stats().total, 1, 'a dropped client is closed, not pooled')
    connections.drop(b, new Error('twice'))
    const c = await connections.take()
    assert.is.not(c, b)
    connections.releaseAll()
    assert.is(pool.stats().idle, pool.stats().total, 'nothing is left checked out')
    connections.give(a) // after releaseAll: nothing happens, no double release
    await connections.take().then(
      () => assert.unreachable('took a client after releaseAll'),
      (error: Error) => assert.match(error.message, /ended/),
    )
    assert.is(pool.stats().idle, pool.stats().total)
  } finally {
    await pool.close()
  }
})

test('connections: an aborted run opens no new connection', async () => {
  const pool = new Db(
    { url: db.url, applicationName: 'health-engine-test' },
    {
      max: 1,
      idleTimeoutMs: 10_000,
      maxLifetimeMs: 0,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 5000,
      statementTimeoutMs: 0,
    },
  )
  try {
    const controller = new AbortController()
    controller.abort(new Error('interrupted'))
    const connections = runConnections({ db: pool, signal: controller.signal })
    await connections.take().then(
      () => assert.unreachable('connected after the abort'),
      (error: Error) => assert.is(error.message, 'interrupted'),
    )
    assert.is(pool.stats().total, 0)
  } finally {
    await pool.close()
  }
})

for (const concurrency of [1, 4])
  test(`health:check in this process at concurrency ${concurrency}: every check once, in catalog order`, async () => {
    const { report, result } = await runTask('health:check', {
      config: {
        connection: { url: db.url },
        pool: { max: 5 },
        plugins: [health({ concurrency, failOn: 'never', history: false })],
      },
    })
    assert.is(report.status, 'success', JSON.stringify(report.steps))
    const checks = (result as HealthReport).checks.map((c) => c.check)
    assert.equal(
      checks,
      CATALOG.map((c) => c.id),
    )
    for (const c of (result as HealthReport).checks)
      assert.not.match(c.message, /has no database connection|not checked/, c.check)
  })

test.run()
