/**
 * bench/startup.ts — what every dbops command pays before it does any work, against the
 * floor a user cannot go below: `node -e 0`. Each command is timed as a whole process
 * (spawn to exit), the commands alternating within each round, median of the rounds:
 *
 * - `dbops --version`;
 * - `dbops list` with examples/aipromot's config (five plugins and a local plugin file);
 * - `dbops run` of a task that does nothing (a local plugin in a temporary app);
 * - `dbops list` as the first run after an install (an empty TypeScript loader cache)
 *   against the same command with the cache warm; and its peak RSS.
 *
 * No database is needed: none of these commands connects.
 *
 *   node --import tsx bench/startup.ts [--runs 7]
 *
 * DBOPS_BENCH_BIN=<file> times another bin (a build being tried) instead of packages/core's.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { DBOPS_BIN, REPO_ROOT, makeWorkdir } from '@dbops/test-utils'
import { median } from './lib/measure.ts'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const RUNS = arg('--runs', 7)
const BIN = process.env.DBOPS_BENCH_BIN ?? DBOPS_BIN
const GNU_TIME = existsSync('/usr/bin/time')

interface Sample {
  ms: number
  /** User + system CPU time: on a loaded machine, steadier than wall time. */
  cpuMs: number | null
  rssKb: number | null
}

/** One whole process: wall time from spawn to exit; CPU time and peak RSS where GNU time exists. */
function timed(argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Sample> {
  const [bin, args] = GNU_TIME
    ? ['/usr/bin/time', ['-f', '__RSS_KB=%M __CPU_S=%U+%S', ...argv]]
    : [argv[0]!, argv.slice(1)]
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(bin, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - started
      const rss = /__RSS_KB=(\d+)/.exec(stderr)
      const cpu = /__CPU_S=([\d.]+)\+([\d.]+)/.exec(stderr)
      if (code !== 0)
        reject(new Error(`${argv.slice(1).join(' ')} exited ${code}:\n${stdout}${stderr}`))
      else
        resolve({
          ms,
          cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null,
          rssKb: rss ? Number(rss[1]) : null,
        })
    })
  })
}

const ms = (x: number) => `${Math.round(x)} ms`

// A task that does nothing, from a local plugin file, as a team's own plugin would be.
const noop = await makeWorkdir({
  'package.json': '{ "name": "bench-startup-noop", "private": true, "type": "module" }\n',
  'noop-plugin.ts': `import { definePlugin } from 'dbops'\nimport { z } from 'zod'\n\nexport default definePlugin({\n  name: 'noop',\n  namespace: 'noop',\n  options: z.strictObject({}),\n  setup: () => ({ tasks: { nothing: { title: 'does nothing', run: async () => 'done' } } }),\n})\n`,
  'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport noop from './noop-plugin.ts'\n\nexport default defineConfig({ connection: { url: 'postgres://bench@127.0.0.1:9/none' }, plugins: [noop()] })\n`,
})
const warmTmp = await mkdtemp(path.join(os.tmpdir(), 'dbops-bench-warm-'))
const coldTmps: string[] = []
const aipromot = path.join(REPO_ROOT, 'examples/aipromot')
const baseEnv = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  NO_COLOR: '1',
  CI: '1',
  DATABASE_URL: 'postgres://bench@127.0.0.1:9/none',
}
const env = (tmp: string) => ({ ...baseEnv, TMPDIR: tmp })

interface Case {
  name: string
  run: () => Promise<Sample>
}
const node = process.execPath
const cases: Case[] = [
  { name: 'node -e 0', run: () => timed([node, '-e', '0'], { cwd: REPO_ROOT, env: env(warmTmp) }) },
  {
    name: 'dbops --version',
    run: () => timed([node, BIN, '--version'], { cwd: REPO_ROOT, env: env(warmTmp) }),
  },
  {
    name: 'dbops list (aipromot)',
    run: () => timed([node, BIN, 'list'], { cwd: aipromot, env: env(warmTmp) }),
  },
  {
    name: 'dbops run noop:nothing',
    run: () => timed([node, BIN, 'run', 'noop:nothing'], { cwd: noop.dir, env: env(warmTmp) }),
  },
  {
    name: 'dbops list, first run',
    run: async () => {
      const fresh = await mkdtemp(path.join(os.tmpdir(), 'dbops-bench-cold-'))
      coldTmps.push(fresh)
      return timed([node, BIN, 'list'], { cwd: aipromot, env: env(fresh) })
    },
  },
]

try {
  process.stdout.write(
    `bin: ${path.relative(REPO_ROOT, BIN) || BIN}; ${RUNS} rounds, the commands alternating in each; load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}\n`,
  )
  for (const c of cases) await c.run() // warm the OS file cache and the warm loader cache
  const samples = new Map<string, Sample[]>(cases.map((c) => [c.name, []]))
  for (let round = 0; round < RUNS; round++) {
    // Rotate the order each round so no command always runs right after another.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(round + i) % cases.length]!
      samples.get(c.name)!.push(await c.run())
    }
  }
  const med = (name: string) => median(samples.get(name)!.map((s) => s.ms))
  const rss = (name: string) => median(samples.get(name)!.map((s) => s.rssKb ?? 0)) / 1024
  const cpu = (name: string) => median(samples.get(name)!.map((s) => s.cpuMs ?? 0))
  process.stdout.write(
    `\n${'command'.padEnd(26)} ${'median'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'CPU'.padStart(8)} ${'RSS'.padStart(8)}\n`,
  )
  for (const c of cases) {
    const xs = samples.get(c.name)!.map((s) => s.ms)
    process.stdout.write(
      `${c.name.padEnd(26)} ${ms(median(xs)).padStart(8)} ${ms(Math.min(...xs)).padStart(8)} ${ms(Math.max(...xs)).padStart(8)} ${ms(cpu(c.name)).padStart(8)} ${`${Math.round(rss(c.name))} MB`.padStart(8)}\n`,
    )
  }

  const floor = med('node -e 0')
  const targets: [string, string, boolean][] = [
    [
      '--version ≤ 2× node -e 0',
      `${ms(med('dbops --version'))} vs ${ms(2 * floor)}`,
      med('dbops --version') <= 2 * floor,
    ],
    [
      'list (aipromot) ≤ 250 ms',
      ms(med('dbops list (aipromot)')),
      med('dbops list (aipromot)') <= 250,
    ],
    [
      'run of a no-op task ≤ 300 ms',
      ms(med('dbops run noop:nothing')),
      med('dbops run noop:nothing') <= 300,
    ],
    [
      'first run within 20% of the second',
      `${ms(med('dbops list, first run'))} vs ${ms(med('dbops list (aipromot)'))} (+${Math.round((med('dbops list, first run') / med('dbops list (aipromot)') - 1) * 100)}%)`,
      med('dbops list, first run') <= 1.2 * med('dbops list (aipromot)'),
    ],
    [
      'RSS of list ≤ 90 MB',
      `${Math.round(rss('dbops list (aipromot)'))} MB`,
      rss('dbops list (aipromot)') <= 90,
    ],
  ]
  process.stdout.write('\ntargets:\n')
  for (const [what, figure, met] of targets)
    process.stdout.write(`  ${what.padEnd(36)} ${figure.padEnd(36)} ${met ? 'met' : 'NOT met'}\n`)
} finally {
  await noop.remove()
  for (const dir of [warmTmp, ...coldTmps]) await rm(dir, { recursive: true, force: true })
}
