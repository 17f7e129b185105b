import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { runCli } from '@dbops/test-utils'
import {
  estimateIndex,
  estimateIndexBloat,
  excludedBy,
  leftoverOf,
  measuredIndexBloat,
  outsideWindow,
  parseBytes,
  reindexOptionsSchema,
  versionRefusal,
} from '../src/index.ts'
import type { IndexRow } from '../src/index.ts'
import { reindexProject } from './fixtures.ts'

test('estimate: a freshly packed int index shows no bloat, the same index at 10x its pages about 90%', () => {
  // 100k int8 keys: 16-byte tuples + 4-byte line pointers, 90% fillfactor: ~ 407 per 8 kB page
  const tight = estimateIndexBloat({
    relpages: 248,
    reltuples: 100_000,
    blockSize: 8192,
    fillfactor: 90,
    dataWidth: 8,
    hasNulls: false,
  })
  assert.ok(tight.bloatPercent < 2, `tight ${tight.bloatPercent}`)
  const bloated = estimateIndexBloat({
    relpages: 2480,
    reltuples: 100_000,
    blockSize: 8192,
    fillfactor: 90,
    dataWidth: 8,
    hasNulls: false,
  })
  assert.ok(
    bloated.bloatPercent > 88 && bloated.bloatPercent < 92,
    `bloated ${bloated.bloatPercent}`,
  )
  assert.is(bloated.bloatBytes + bloated.expectedBytes, bloated.sizeBytes)
  // an index smaller than the estimate (btree deduplication) is never negative bloat
  const dedup = estimateIndexBloat({
    relpages: 50,
    reltuples: 100_000,
    blockSize: 8192,
    fillfactor: 90,
    dataWidth: 8,
    hasNulls: false,
  })
  assert.is(dedup.bloatBytes, 0)
})

test('estimate with deduplication: equal keys stored once with a posting list, as a rebuild packs them', () => {
  const input = {
    relpages: 1000,
    reltuples: 100_000,
    blockSize: 8192,
    fillfactor: 90,
    dataWidth: 4,
    hasNulls: false,
  }
  const pages = (distinctKeys?: number) =>
    Math.round(
      estimateIndexBloat({
        ...input,
        relpages: 1e9,
        ...(distinctKeys === undefined ? {} : { distinctKeys }),
      }).expectedBytes / 8192,
    )
  // measured on PostgreSQL 15, CREATE INDEX on 100k int4 rows: 249 pages at 2 rows per key,
  // 144 at 5, 86 at 100, 87 at 33,333; 267 for (nearly) unique keys
  assert.is(pages(), 276)
  assert.ok(Math.abs(pages(50_000) - 249) <= 3, `2 rows per key: ${pages(50_000)}`)
  assert.ok(Math.abs(pages(20_000) - 144) <= 3, `5 rows per key: ${pages(20_000)}`)
  for (const [keys, real] of [
    [1000, 86],
    [3, 87],
  ] as const) {
    const p = pages(keys)
    // never smaller than the real index (that would invent bloat), at most ~6% larger
    assert.ok(
      p >= real && p <= real * 1.06,
      `${100_000 / keys} rows per key: ${p} pages for a real ${real}`,
    )
  }
  // more keys than rows is one key per row
  assert.is(pages(10 ** 9), pages(100_000))
})

test('which rebuilt indexes deduplicate: not unique, no INCLUDE, equalimage opclasses, the storage parameter, PostgreSQL 13+', () => {
  const row: IndexRow = {
    index_oid: '1',
    table_oid: '2',
    schema: 'public',
    table_name: 't',
    index_name: 't_idx',
    index_regclass: 't_idx',
    table_regclass: 't',
    method: 'btree',
    relpages: '1000',
    reltuples: 100_000,
    table_pages: '5000',
    table_tuples: 100_000,
    valid: true,
    is_unique: false,
    temporary: false,
    indnatts: 1,
    indnkeyatts: 1,
    reloptions: [],
    exclusion: false,
    tablespace_location: '',
    data_width: 4,
    has_nulls: false,
    missing_stats: false,
    has_name: false,
    equal_image: true,
    distinct_keys: 100,
    distinct_unknown: false,
    never_analyzed: false,
    modified_since_analyze: 0,
    dead_tuples: 0,
  }
  const server = { blockSize: 8192, versionNum: 150000 }
  const rowsPerKey = (r: Partial<IndexRow>, s = server) =>
    estimateIndex({ ...row, ...r }, s).rowsPerKey
  assert.is(rowsPerKey({}), 1000)
  const e = estimateIndex(row, server)
  assert.ok(
    e.figures.bloatPercent > 85 && e.withoutDedup.bloatPercent < 75,
    `${e.figures.bloatPercent} / ${e.withoutDedup.bloatPercent}`,
  )
  assert.is(rowsPerKey({ is_unique: true }), null)
  assert.is(rowsPerKey({ indnatts: 2 }), null) // an INCLUDE column
  assert.is(rowsPerKey({ equal_image: false }), null) // numeric, float, jsonb, a nondeterministic collation
  assert.is(rowsPerKey({ reloptions: ['deduplicate_items=off'] }), null)
  assert.is(rowsPerKey({ reloptions: ['fillfactor=70', 'deduplicate_items=on'] }), 1000)
  assert.is(rowsPerKey({}, { ...server, versionNum: 120000 }), null)
  assert.is(rowsPerKey({ distinct_unknown: true }), null)
  assert.is(rowsPerKey({ distinct_keys: null }), null)
  assert.is(rowsPerKey({ distinct_keys: 80_000 }), null) // 1.25 rows per key: not counted on
  // statistics that cannot be trusted give figures but no trusted ones, and say why
  const stale = estimateIndex({ ...row, modified_since_analyze: 20_000 }, server)
  assert.is(stale.trusted, null)
  assert.equal(stale.distrust?.kind, 'stale')
})

test('measured: pgstatindex density repacked at the fillfactor', () => {
  const m = measuredIndexBloat(
    {
      index_size: 1000 * 8192,
      internal_pages: 4,
      leaf_pages: 900,
      empty_pages: 0,
      deleted_pages: 95,
      avg_leaf_density: 9,
    },
    8192,
    90,
  )
  assert.ok(m.bloatPercent > 85 && m.bloatPercent < 92, `${m.bloatPercent}`)
  const empty = measuredIndexBloat(
    {
      index_size: 8192 * 2,
      internal_pages: 0,
      leaf_pages: 1,
      empty_pages: 0,
      deleted_pages: 0,
      avg_leaf_density: Number.NaN,
    },
    8192,
    90,
  )
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
  for (const [name, index, kind] of cases)
    assert.equal(leftoverOf(name, siblings), index ? { index, kind } : undefined, name)
  const long = 'a_really_long_index_name_that_goes_on_and_on_past_the_limit_xx' // 62 chars
  const truncated = `${long.slice(0, 57)}_ccnew` // 63 bytes, as PostgreSQL truncates
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
  assert.match(
    outsideWindow(night, at('2026-11-26T03:00:00Z'))!,
    /it is 03:00 UTC on thu, outside the maintenance window 22:00–03:00 UTC/,
  )
  // Saturday night's window still holds at 01:00 on Sunday
  const weekend = { ...night, days: ['sat' as const] }
  assert.is(outsideWindow(weekend, at('2026-11-29T01:00:00Z')), null)
  assert.ok(outsideWindow(weekend, at('2026-11-28T01:00:00Z')))
  assert.is(
    outsideWindow(
      { start: '01:00', end: '05:00', timezone: 'Asia/Tokyo' },
      at('2026-11-25T17:30:00Z'),
    ),
    null,
  ) // 02:30 in Tokyo
})

test('versions: 14.0–14.3 refused with the upgrade advice, 11 has no concurrent reindex, others pass', () => {
  for (const [num, text] of [
    [140000, '14.0'],
    [140003, '14.3'],
  ] as const) {
    const r = versionRefusal(num, text)!
    assert.is(r.code, 'UNSAFE_VERSION')
    assert.match(r.message, /can silently miss rows \(fixed in 14\.4\)/)
    assert.match(r.hint, /rebuild every index that was built or rebuilt CONCURRENTLY/)
  }
  assert.is(versionRefusal(110020, '11.20')?.code, 'UNSUPPORTED_VERSION')
  for (const num of [120000, 130015, 140004, 150018, 170000])
    assert.is(versionRefusal(num, String(num)), null)
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
  const project = await reindexProject(
    `{ minBloatSize: 'lots', lockTimeout: 'soon', preflight: { window: { start: '25:00', end: '03:00', timezone: 'Mars/Base' } }, attempts: 0 }`,
  )
  try {
    // the URL points nowhere: a config error must come first
    const r = await runCli(['reindex', 'plan'], {
      cwd: project.dir,
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    })
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
    const r = await runCli(['reindex', 'rebuild'], {
      cwd: project.dir,
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    })
    assert.is(r.code, 2)
    assert.match(r.stderr, /unknown reindex command 'rebuild'/)
    const none = await runCli(['reindex'], {
      cwd: project.dir,
      env: { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
    })
    assert.is(none.code, 2)
    assert.match(none.stderr, /name a reindex command: plan, apply or analyze/)
  } finally {
    await project.remove()
  }
})

test.run()
