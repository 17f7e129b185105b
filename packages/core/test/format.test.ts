import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { formatBytes, formatDuration } from '../src/plugin-kit.ts'

test('formatBytes: powers of 1024 with pg_size_pretty units (kB, MB), a sign for deltas', () => {
  const cases: [number, string][] = [
    [0, '0 B'],
    [512, '512 B'],
    [1536, '1.5 kB'],
    [10 * 1024 ** 2, '10.0 MB'],
    [3 * 1024 ** 3, '3.0 GB'],
    [2 * 1024 ** 4, '2.0 TB'],
    [-2048, '-2.0 kB'],
  ]
  for (const [n, text] of cases) assert.is(formatBytes(n), text, String(n))
})

test('formatDuration: milliseconds in, at most two units out, zero parts left out', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [250, '250ms'],
    [1500, '1.5s'],
    [2000, '2s'],
    [90_000, '1m 30s'],
    [300_000, '5m'],
    [7_200_000, '2h'],
    [3_723_000, '1h 2m'],
    [93_600_000, '1d 2h'],
    [86_400_000 + 60_000, '1d'],
  ]
  for (const [ms, text] of cases) assert.is(formatDuration(ms), text, String(ms))
})

test.run()
