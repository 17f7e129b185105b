/**
 * bench/scheduler.ts — what an idle `dbops watch` costs between ticks, against what a user
 * would otherwise run: the app's own `backup-scheduler.ts`, a Node process with node-cron
 * holding the same cron entries (run with tsx, as the app's package.json does).
 *
 * Both get the aipromot schedules (daily 02:00 backup, weekly Sunday 03:00, cleanup 04:00,
 * optimize Saturday 01:00, health every 6 hours), none of which is due during the window.
 * Per process, read from /proc: time to ready, CPU time used during the idle window,
 * wake-ups (context switches) during it, resident memory at the end and its peak.
 * `dbops watch --metrics-port` (prom-client loaded, an HTTP server listening) is a third row.
 *
 * The window starts after a settle time, so start-up work (compiling, first GCs) is not counted.
 *
 *   node --import tsx bench/scheduler.ts [--window 60] [--settle 30]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import net from 'node:net'
import pg from 'pg'
import { DBOPS_BIN, makeWorkdir, startCluster } from '@dbops/test-utils'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const WINDOW_S = arg('--window', 60)
const SETTLE_S = arg('--settle', 30)
const CLK_TCK = 100

const SCHEDULES = {
  daily: '0 2 * * *',
  weekly: '0 3 * * 0',
  cleanup: '0 4 * * *',
  optimize: '0 1 * * 6',
  health: '0 */6 * * *',
}

const DBOPS_CONFIG = `import { defineConfig, env } from 'dbops'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  pipelines: { backup: ['retention:apply'], cleanup: ['retention:apply'], optimize: ['retention:apply'], health: ['retention:apply'] },
  schedules: {
${Object.entries(SCHEDULES)
  .map(
    ([name, cron]) =>
      `    ${name}: { cron: '${cron}', run: '${name === 'daily' || name === 'weekly' ? 'backup' : name}' },`,
  )
  .join('\n')}
  },
})
`

// The baseline: the shape of the app's backup-scheduler.ts — node-cron entries that would
// call the backup script; pg is loaded as that script needs it.
const nodeCron = (await import('node:module'))
  .createRequire(new URL('../packages/core/package.json', import.meta.url))
  .resolve('node-cron')
const BASELINE = `import cron from ${JSON.stringify(nodeCron)}
import pg from 'pg'
void pg
const jobs = ${JSON.stringify(SCHEDULES)}
for (const [name, expr] of Object.entries(jobs)) cron.schedule(expr, () => console.log('run', name))
console.log('ready')
`

function procStats(pid: number): { cpuMs: number; switches: number; rssKb: number; hwmKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0)
  // Wake-ups of every thread of the process (libuv, V8 workers) count.
  let switches = 0
  for (const tid of readdirTasks(pid)) {
    const t = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8')
    switches +=
      Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(t)?.[1] ?? 0) +
      Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(t)?.[1] ?? 0)
  }
  return { cpuMs, switches, rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') }
}

function readdirTasks(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`)
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

async function measure(
  label: string,
  start: () => ChildProcess,
  ready: RegExp,
): Promise<Record<string, string | number>> {
  const began = performance.now()
  const child = start()
  let out = ''
  let readyMs = 0
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d
      if (!readyMs && ready.test(out)) {
        readyMs = performance.now() - began
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => reject(new Error(`${label} exited ${code}: ${out}`)))
  })
  await new Promise((r) => setTimeout(r, SETTLE_S * 1000)) // settle: startup compilation and GC, first connections
  const before = procStats(child.pid!)
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000))
  const after = procStats(child.pid!)
  child.kill('SIGTERM')
  await new Promise((r) => child.once('close', r))
  return {
    process: label,
    'ready (s)': (readyMs / 1000).toFixed(2),
    [`CPU in ${WINDOW_S}s idle (ms)`]: Math.round(after.cpuMs - before.cpuMs),
    [`wake-ups in ${WINDOW_S}s`]: after.switches - before.switches, // context switches of all its threads
    'RSS (MB)': (after.rssKb / 1024).toFixed(1),
    'peak RSS (MB)': (after.hwmKb / 1024).toFixed(1),
  }
}

const cluster = await startCluster()
const admin = new pg.Client({ connectionString: cluster.url('postgres') })
await admin.connect()
await admin.query('create database bench_scheduler')
await admin.end()
const work = await makeWorkdir({ 'dbops.config.ts': DBOPS_CONFIG, 'backup-scheduler.ts': BASELINE })
const env = {
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/root',
  DATABASE_URL: cluster.url('bench_scheduler'),
}
try {
  const rows = []
  rows.push(
    await measure(
      'dbops watch',
      () => spawn(process.execPath, [DBOPS_BIN, 'watch'], { cwd: work.dir, env }),
      /watch\.started/,
    ),
  )
  const port = await freePort()
  rows.push(
    await measure(
      'dbops watch --metrics-port',
      () =>
        spawn(process.execPath, [DBOPS_BIN, 'watch', '--metrics-port', String(port)], {
          cwd: work.dir,
          env,
        }),
      /watch\.started/,
    ),
  )
  rows.push(
    await measure(
      'node-cron + tsx (baseline)',
      () =>
        spawn(process.execPath, ['--import', 'tsx', 'backup-scheduler.ts'], { cwd: work.dir, env }),
      /ready/,
    ),
  )
  console.table(rows)
} finally {
  await work.remove()
  await cluster.stop()
}
