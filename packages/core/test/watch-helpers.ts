// Helpers of the watch-*/scheduler-* suites (not a suite itself): a project with a small
// test plugin whose tasks write to the database, and `dbops watch` as a real child process.
import { spawn, type ChildProcess } from 'node:child_process'
import { DBOPS_BIN, REPO_ROOT, makeWorkdir } from '@dbops/test-utils'

export const TEST_PLUGIN = `
import { definePlugin, DbopsError, sleep } from 'dbops/plugin'
import { z } from 'zod'

export default definePlugin({
  name: 'watch-test',
  namespace: 't',
  options: z.object({}).default({}),
  setup: () => ({
    tasks: {
      insert: {
        title: 'insert a row',
        run: async (ctx) => {
          await ctx.db.query('create table if not exists seen (run_id text, tags text[], pid int, at timestamptz default now())')
          await ctx.db.query('insert into seen (run_id, tags, pid) values ($1, $2, $3)', [ctx.runId, ctx.tags, process.pid])
          return { inserted: 1, bytes: 123 }
        },
      },
      slow: {
        title: 'a long task',
        run: async (ctx) => {
          await ctx.db.query('create table if not exists slow_started (run_id text, pid int, at timestamptz default now())')
          await ctx.db.query('insert into slow_started values ($1, $2)', [ctx.runId, process.pid])
          await sleep(Number(process.env.SLOW_MS ?? 60000), ctx.signal)
          return { slept: true }
        },
      },
      checks: {
        title: 'health-style checks',
        run: async () => ({ status: 'warning', checks: [{ id: 'connections', status: 'ok' }, { id: 'bloat', status: 'warning' }, { id: 'replication', status: 'critical' }] }),
      },
      fail: {
        title: 'a failing task',
        run: async () => {
          throw new DbopsError('TEST_FAILED', 'the test task failed on purpose')
        },
      },
      flaky: {
        title: 'fails while the table says so',
        run: async (ctx) => {
          await ctx.db.query('create table if not exists flaky (fail boolean)')
          const { rows } = await ctx.db.query('select fail from flaky limit 1')
          if (rows[0]?.fail) throw new DbopsError('TEST_FLAKY', 'flaky is set to fail')
          return { ok: true }
        },
      },
    },
  }),
})
`

/** A project dir: the test plugin and a config around the given schedules/pipelines/notify. */
export async function watchProject(body: string) {
  const work = await makeWorkdir({
    'test-plugin.ts': TEST_PLUGIN,
    'dbops.config.ts': configSource(body),
  })
  return { ...work, setConfig: (b: string) => work.write('dbops.config.ts', configSource(b)) }
}

export function configSource(body: string): string {
  return `import { defineConfig, env } from 'dbops'
import t from './test-plugin.ts'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  pool: { max: 4 },
  plugins: [t()],
  pipelines: {
    insert: ['t:insert'],
    slow: ['t:slow'],
    fail: ['t:fail'],
    flaky: ['t:flaky'],
    checks: ['t:checks'],
  },
${body}
})
`
}

export interface WatchProcess {
  child: ChildProcess
  pid: number
  output(): string
  /** Parsed JSON log lines of stdout. */
  events(): Record<string, any>[]
  waitFor(
    test: (e: Record<string, any>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, any>>
  kill(signal: NodeJS.Signals): void
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** `dbops watch` in its own process (JSON log lines, since stdout is a pipe). */
export function spawnWatch(
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): WatchProcess {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    NO_COLOR: '1',
    ...options.env,
  }
  const child = spawn(process.execPath, [DBOPS_BIN, 'watch', ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const waiters: {
    test: (e: Record<string, any>) => boolean
    resolve: (e: Record<string, any>) => void
  }[] = []
  const parsed: Record<string, any>[] = []
  let partial = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d
    partial += d
    const lines = partial.split('\n')
    partial = lines.pop()!
    for (const line of lines) {
      let event: Record<string, any>
      try {
        event = JSON.parse(line)
      } catch {
        continue
      }
      parsed.push(event)
      for (const w of [...waiters]) {
        if (!w.test(event)) continue
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(event)
      }
    }
  })
  child.stderr!.on('data', (d: Buffer) => (stderr += d))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  )
  return {
    child,
    pid: child.pid!,
    output: () => `--- stdout\n${stdout}\n--- stderr\n${stderr}`,
    events: () => parsed,
    waitFor(test, timeoutMs = 10_000) {
      const found = parsed.find(test)
      if (found) return Promise.resolve(found)
      const waiting = new Promise<Record<string, any>>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `timed out waiting for an event\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`,
              ),
            ),
          timeoutMs,
        )
        waiters.push({
          test,
          resolve: (e) => {
            clearTimeout(timer)
            resolve(e)
          },
        })
        void exited.then(() => {
          clearTimeout(timer)
          reject(
            new Error(
              `the watcher exited while a test waited for an event\n${stdout.slice(-3000)}\n--- stderr\n${stderr.slice(-3000)}`,
            ),
          )
        })
      })
      waiting.catch(() => {}) // a wait that lost a race must not crash the suite
      return waiting
    },
    kill: (signal) => void child.kill(signal),
    exited,
  }
}

export const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * A TCP forwarder in front of the test PostgreSQL that can be taken down and brought back,
 * so a test sees the database as a client would when it is unreachable: connection refused,
 * connections cut. The database behind it is the real one.
 */
export async function tcpProxy(target: { host: string; port: number }) {
  const net = await import('node:net')
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port
      probe.close(() => resolve(p))
    })
  })
  let server: import('node:net').Server | undefined
  const sockets = new Set<import('node:net').Socket>()
  return {
    port,
    up: () =>
      new Promise<void>((resolve) => {
        server = net.createServer((client) => {
          const upstream = net.connect(target.port, target.host)
          for (const s of [client, upstream]) {
            sockets.add(s)
            s.on('close', () => sockets.delete(s))
            s.on('error', () => {})
          }
          client.pipe(upstream).pipe(client)
        })
        server.listen(port, '127.0.0.1', () => resolve())
      }),
    down: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        if (!server) return resolve()
        server.close(() => resolve())
        server = undefined
      }),
  }
}

/** Empties what earlier tests of a suite left: history, claims and the test plugin's tables. */
export async function resetDatabase(db: {
  query(sql: string): Promise<{ rows: any[] }>
}): Promise<void> {
  const { rows } = await db.query(`select to_regclass('dbops.runs') is not null as exists`)
  if (rows[0]?.exists) await db.query('truncate dbops.runs, dbops.schedule_ticks')
  await db.query('drop table if exists seen, slow_started, flaky')
}

export interface Received {
  method: string
  path: string
  body: any
  at: number
}

/** A local HTTP server standing in for webhook and ping receivers; `/status/503/...` answers 503. */
export async function startReceiver() {
  const http = await import('node:http')
  const received: Received[] = []
  const server = http.createServer((req, res) => {
    let data = ''
    req.on('data', (d) => (data += d))
    req.on('end', () => {
      let body: unknown = data
      try {
        body = data ? JSON.parse(data) : undefined
      } catch {}
      received.push({ method: req.method!, path: req.url!, body, at: Date.now() })
      const status = /^\/status\/(\d{3})\//.exec(req.url!)?.[1]
      res.writeHead(status ? Number(status) : 200).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

export async function freePort(): Promise<number> {
  const net = await import('node:net')
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port
      probe.close(() => resolve(p))
    })
  })
}

export async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 8000,
  what = 'a condition',
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleepMs(50)
  }
}
