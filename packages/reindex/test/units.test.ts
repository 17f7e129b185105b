import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '../../../test/harness/index.ts'
import { estimateIndexBloat, excludedBy, leftoverOf, measuredIndexBloat, outsideWindow, parseBytes, reindexOptionsSchema, versionRefusal } from '../src/index.ts'
import { reindexProject } from './_fixtures.ts'

test('estimate: a freshly packed int index shows no bloat, the same index at 10x its pages about 90%', () => {
  // 100k int8 keys: 16-byte tuples + 4-byte line pointers, 90% fillfactor: ~ 407 per 8 kB page
  const tight = estimateIndexBloat({ relpages: 248, reltuples: 100_000, blockSize: 8192, fillfactor: 90, dataWidth: 8, hasNulls: false })
  assert.ok(tight.bloatPercent < 2, `tight ${tight.bloatPercent}`)
  const bloated = estimateIndexBloat({ relpages: 2480, reltuples: 100_000, blockSize: 8192, fillfactor: 90, dataWidth: 8, hasNulls: false })
  assert.ok(bloated.bloatPercent > 88 && bloated.bloatPercent < 92, `bloated ${bloated.bloatPercent}`)
  assert.is(bloated.bloatBytes + bloated.expectedBytes, bloated.sizeBytes)
  // an index smaller than the estimate (btree deduplication) is never negative bloat
  const dedup = estimateIndexBloat({ relpages: 50, reltuples: 100_000, blockSize: 8192, fillfactor: 90, dataWidth: 8, hasNulls: false })
  assert.is(dedup.bloatBytes, 0)
})

test('measured: pgstatindex density repacked at the fillfactor', () => {
  const m = measuredIndexBloat({ index_size: 1000 * 8192, internal_pages: 4, leaf_pages: 900, empty_pages: 0, deleted_pages: 95, avg_leaf_density: 9 }, 8192, 90)
  assert.ok(m.bloatPercent > 85 && m.bloatPercent < 92, `${m.bloatPercent}`)
  const empty = measuredIndexBloat({ index_size: 8192 * 2, internal_pages: 0, leaf_pages: 1, empty_pages: 0, deleted_pages: 0, avg_leaf_density: Number.NaN }, 8192, 90)
  assert.ok(Number.isFinite(empty.bloatPercent))
})

test('leftovers: _ccnew/_ccold and numbered forms of the right index only, truncated names too', () => {
  const siblings = ['orders_email_idx', 'orders_pkey']
  const cases: [string, string | undefined, string | undefined][] = [
    ['orders_email_idx_ccnew', 'orders_email_idx', 'ccnew'],
    ['orders_email_idx_ccnew1', 'orders_email_idx', 'ccnew'],
    ['orders_email_idx_ccold', 'orders_email_idx', 'ccold'],
    ['orders_email_idx_ccold12', 'orders_email_idx', 'ccold'],
    ['orders_pkey_ccnew', 'orders_pkey', 'ccnew'],
    ['orders_email_ccnew', undefined, undefined], // not a sibling's name
    ['orders_email_idx_new', undefined, undefined],
    ['_ccnew', undefined, undefined],
  ]
  for (const [name, index, kind] of cases) assert.equal(leftoverOf(name, siblings), index ? { index, kind } : undefined, name)
  const long = 'a_really_long_index_name_that_goes_on_and_on_past_the_limit_xx' // 62 chars
  const truncated = long.slice(0, 57) + '_ccnew' // 63 bytes, as PostgreSQL truncates
  assert.equal(leftoverOf(truncated, [long]), { index: long, kind: 'ccnew' })
})

test('exclude patterns match index or table, with or without schema', () => {
  assert.is(excludedBy(['audit_*'], 'public', 'audit_log', 'audit_log_pkey'), 'audit_*')
  assert.is(excludedBy(['public.events'], 'public', 'events', 'events_at_idx'), 'public.events')
  assert.is(excludedBy(['archive.*'], 'archive', 't', 't_pkey'), 'archive.*')
  assert.is(excludedBy(['archive.*'], 'public', 't', 't_pkey'), undefined)
  assert.is(excludedBy(['events'], 'public', 'events_2024', 'events_2024_pkey'), undefined)
})

test('maintenance window: same-day and across midnight, with days', () => {
  const at = (iso: string) => new Date(iso)
  const night = { start: '22:00', end: '03:00', timezone: 'UTC' }
  assert.is(outsideWindow(night, at('2026-11-25T23:30:00Z')), null)
  assert.is(outsideWindow(night, at('2026-11-26T02:59:00Z')), null)
  assert.match(outsideWindow(night, at('2026-11-26T03:00:00Z'))!, /it is 03:00 UTC on thu, outside the maintenance window 22:00–03:00 UTC/)
  // Saturday night's window still holds at 01:00 on Sunday
  const weekend = { ...night, days: ['sat' as const] }
  assert.is(outsideWindow(weekend, at('2026-11-29T01:00:00Z')), null)
  assert.ok(outsideWindow(weekend, at('2026-11-28T01:00:00Z')))
  assert.is(outsideWindow({ start: '01:00', end: '05:00', timezone: 'Asia/Tokyo' }, at('2026-11-25T17:30:00Z')), null) // 02:30 in Tokyo
})

test('versions: 14.0–14.3 refused with the upgrade advice, 11 has no concurrent reindex, others pass', () => {
  for (const [num, text] of [[140000, '14.0'], [140003, '14.3']] as const) {
    const r = versionRefusal(num, text)!
    assert.is(r.code, 'UNSAFE_VERSION')
    assert.match(r.message, /can silently miss rows \(fixed in 14\.4\)/)
    assert.match(r.hint, /rebuild every index that was built or rebuilt CONCURRENTLY/)
  }
  assert.is(versionRefusal(110020, '11.20')?.code, 'UNSUPPORTED_VERSION')
  for (const num of [120000, 130015, 140004, 150018, 170000]) assert.is(versionRefusal(num, String(num)), null)
})

test('sizes and option defaults', () => {
  assert.is(parseBytes('10MB'), 10 * 1024 ** 2)
  assert.is(parseBytes('512kB'), 512 * 1024)
  assert.is(parseBytes('1.5GB'), 1.5 * 1024 ** 3)
  assert.throws(() => parseBytes('ten'), /not a size/)
  const o = reindexOptionsSchema.parse({})
  assert.is(o.minBloatPercent, 30)
  assert.is(o.minBloatSize, 10 * 1024 ** 2)
  assert.is(o.lockTimeout, 1000)
  assert.equal(o.retryDelays, [10_000, 30_000, 60_000])
  assert.is(o.preflight.maxTransactionAge, 600_000)
  assert.is(o.lock.name, 'maintenance')
})

test('bad options: every problem reported at once, exit 2, before any connection', async () => {
  const project = await reindexProject(`{ minBloatSize: 'lots', lockTimeout: 'soon', preflight: { window: { start: '25:00', end: '03:00', timezone: 'Mars/Base' } }, attempts: 0 }`)
  try {
    // the URL points nowhere: a config error must come first
    const r = await runCli(['reindex', 'plan'], { cwd: project.dir, env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } })
    assert.is(r.code, 2, r.stderr)
    assert.match(r.stderr, /minBloatSize: 'lots' is not a size/)
    assert.match(r.stderr, /lockTimeout: 'soon' is not a duration/)
    assert.match(r.stderr, /preflight\.window\.start: expected a time of day as HH:MM/)
    assert.match(r.stderr, /attempts/)
  } finally {
    await project.remove()
  }
})

test('usage errors of the command get a sentence and exit 2', async () => {
  const project = await reindexProject('{}')
  try {
    const r = await runCli(['reindex', 'rebuild'], { cwd: project.dir, env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } })
    assert.is(r.code, 2)
    assert.match(r.stderr, /unknown reindex command 'rebuild'/)
    const none = await runCli(['reindex'], { cwd: project.dir, env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' } })
    assert.is(none.code, 2)
    assert.match(none.stderr, /name a reindex command: plan, apply or analyze/)
  } finally {
    await project.remove()
  }
})

test.run()
