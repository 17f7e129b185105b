// `dbops dashboard` through the CLI against the harness database and s3rver: the endpoints'
// content, read-only answers, the 127.0.0.1 default, the token, no secret anywhere, and the
// database stopped mid-session (a cluster of its own).
import { execFile } from 'node:child_process'
import os from 'node:os'
import net from 'node:net'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import pg from 'pg'
import { Db } from 'dbops/plugin'
import { DBOPS_BIN, startCluster } from '@dbops/test-utils'
import { readOnly } from '../src/collect/read-only.ts'
import {
  DASHBOARD_TOKEN,
  getJson,
  makeProject,
  startDashboard,
  until,
  withScheduledRuns,
  type Project,
  type Server,
} from './project.ts'
import type { WatchRun } from './watch.ts'

let project: Project
let server: Server
let watched: WatchRun

test.before(async () => {
  project = await makeProject('dashboard')
  // Scheduled runs, through a real watcher that also serves the dashboard beside /metrics.
  watched = await withScheduledRuns(
    project,
    ['--dashboard', '--metrics-port', '0'],
    ['/', '/api/overview', '/metrics', '/healthz'],
  )
  server = await startDashboard(project, ['--refresh', '0.5'])
})

test.after(async () => {
  await server?.stop()
  await project?.remove()
})

test('watch --dashboard serves the page beside /metrics and /healthz, on 127.0.0.1', async () => {
  assert.is(watched.answers['/']!.status, 200)
  assert.match(watched.answers['/']!.text, /<title>dbops dashboard<\/title>/)
  assert.is(watched.answers['/api/overview']!.status, 200)
  assert.match(watched.answers['/metrics']!.text, /dbops_schedule_runs_total/)
  assert.is(watched.answers['/healthz']!.status, 200)
  const started = watched.events.find((e) => e.event === 'watch.started')!
  assert.ok(started.metricsPort > 0)
})

test('watch: an option no plugin serves is refused with the surfaces there are', async () => {
  const r = await project.cli(['watch', '--dashbord'])
  assert.is(r.code, 2, r.stdout + r.stderr)
  assert.match(r.stdout + r.stderr, /unknown option --dashbord/)
  assert.match(r.stdout + r.stderr, /--dashboard/)
})

test('overview: health, the last backup per database and destination, schedules, failures, migrations', async () => {
  const { status, body: o } = await getJson(`${server.url}api/overview`)
  assert.is(status, 200)
  assert.is(o.database.up, true)
  assert.is(o.target, `dbops_test@127.0.0.1:${project.db.cluster.port}/${project.db.name}`)
  assert.ok(o.health, 'health results are recorded')
  assert.ok(['ok', 'warning', 'unknown'].includes(o.health.status), o.health.status)
  const destinations = o.lastBackups.map((b: any) => `${b.database}/${b.destination}`).sort()
  assert.equal(destinations, [`${project.db.name}/local`, `${project.db.name}/offsite`])
  for (const b of o.lastBackups) {
    assert.ok(b.bytes > 0)
    assert.ok(b.durationMs >= 0)
    // pgdump:verify reads the archive from the first destination and checksums the others.
    assert.is(b.provenLevel, b.destination === 'local' ? 'archive-list' : 'checksum')
    assert.is(b.lastRestoreProofAt, null)
    assert.is(b.restoreProofStale, true, 'never restored: past any threshold')
    assert.is(b.stale, false)
  }
  assert.equal(
    o.schedules.map((s: any) => s.name),
    ['nightly', 'health'],
  )
  assert.ok(Date.parse(o.schedules[0].next) > Date.now())
  const failed = o.recentFailures.find((r: any) => r.schedule === 'nightly')
  assert.ok(failed, JSON.stringify(o.recentFailures))
  assert.match(failed.error, /the nightly export failed on purpose/)
  assert.equal(o.migrations, {
    status: 'pending',
    applied: 2,
    pending: 1,
    drifted: 0,
    missing: 0,
    partial: 0,
  })
})

test('health: every check of the last run; history as series with a status per bucket', async () => {
  const { body: h } = await getJson(`${server.url}api/health`)
  assert.ok(h.checks.length > 25, String(h.checks.length))
  const connection = h.checks.find((c: any) => c.check === 'connection')
  assert.is(connection.status, 'ok')
  assert.is(connection.unit, 'ms')
  assert.ok(connection.title.length > 0)
  const { body: history } = await getJson(`${server.url}api/health/history?check=connections`)
  assert.is(history.series.length, 1)
  assert.is(history.series[0].t.length, history.series[0].v.length)
  assert.ok(history.series[0].s.every((s: number) => s >= 0 && s <= 3))
  assert.is((await getJson(`${server.url}api/health/history?since=bogus`)).status, 400)
})

test('backups: both copies of the set, its manifest, checksums and row counts', async () => {
  const { body: b } = await getJson(`${server.url}api/backups`)
  assert.is(b.sets.length, 2)
  const local = b.sets.find((s: any) => s.destination === 'local')
  assert.is(local.location, `${project.dir}/backups`)
  assert.is(local.prefix, `${project.db.name}/${local.id}/`)
  assert.match(
    b.sets.find((s: any) => s.destination === 'offsite').location,
    /^s3:\/\/dbops-test\/dash\//,
  )
  const { status, body: d } = await getJson(
    `${server.url}api/backups/local/${encodeURIComponent(local.id)}`,
  )
  assert.is(status, 200)
  assert.ok(d.manifest.objects.every((o: any) => /^[0-9a-f]{64}$/.test(o.sha256)))
  assert.equal(
    d.manifest.tables.find((t: any) => t.name === 'items'),
    { schema: 'public', name: 'items', rows: 500, exact: true },
  )
  assert.is(d.manifest.verification.at(-1).status, 'verified')
  assert.equal(d.copies.map((c: any) => c.destination).sort(), ['local', 'offsite'])
  assert.is((await getJson(`${server.url}api/backups/local/nope`)).status, 404)
})

test('runs: the failed and the successful run with their steps; reindex-style figures', async () => {
  const { body: r } = await getJson(`${server.url}api/runs`)
  const nightly = r.runs.find((x: any) => x.schedule === 'nightly')
  const tidy = r.runs.find((x: any) => x.schedule === 'tidy')
  assert.is(nightly.status, 'failed')
  assert.is(tidy.status, 'success')
  const { body: d } = await getJson(`${server.url}api/runs/${nightly.id}`)
  assert.is(d.run.steps[0].id, 't:fail')
  assert.is(d.run.steps[0].status, 'failed')
  assert.match(d.run.steps[0].error, /failed on purpose/)
  const { body: t } = await getJson(`${server.url}api/runs/${tidy.id}`)
  assert.equal(t.run.steps[0].figures, {
    rebuilt: 1,
    skipped: 0,
    failed: 0,
    reclaimedBytes: 4096,
    durationMs: 5,
  })
  const { body: rx } = await getJson(`${server.url}api/reindex`)
  assert.ok(rx.runs.length >= 1)
  assert.is(rx.runs[0].reclaimedBytes, 4096)
})

test('migrations: applied and pending files', async () => {
  const { body } = await getJson(`${server.url}api/migrations`)
  assert.equal(
    body.migrations.applied.map((a: any) => a.file),
    ['migrations/001_items.sql', 'migrations/002_seed.sql'],
  )
  assert.equal(
    body.migrations.pending.map((p: any) => p.file),
    ['migrations/003_later.sql'],
  )
})

test('read-only: nothing but GET and HEAD; the page ships its own scripts, nothing from elsewhere', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH'])
    assert.is((await fetch(`${server.url}api/overview`, { method })).status, 405, method)
  const page = await (await fetch(server.url)).text()
  assert.not.match(page, /https?:\/\//)
  const res = await fetch(`${server.url}assets/uplot.js`)
  assert.is(res.status, 200)
  assert.match(res.headers.get('content-type')!, /javascript/)
  assert.match(
    (await fetch(server.url)).headers.get('content-security-policy')!,
    /default-src 'none'/,
  )
})

test("the collector's transactions are read-only: a write inside one is refused by the server", async () => {
  const db = new Db(
    { url: project.db.url, applicationName: 'dashboard-test' },
    {
      max: 1,
      idleTimeoutMs: 1000,
      maxLifetimeMs: 0,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 5000,
      statementTimeoutMs: 0,
    },
  )
  try {
    const error = await readOnly(db, 1000, (client) =>
      client.query('create table dashboard_wrote (id int)'),
    ).catch((e: { code?: string }) => e)
    assert.is((error as { code?: string }).code, '25006')
    assert.is(
      (await project.db.query(`select to_regclass('dashboard_wrote') as t`)).rows[0]!.t,
      null,
    )
  } finally {
    await db.close()
  }
})

test('binds 127.0.0.1 by default: not reachable on another address of this machine', async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/)
  const port = Number(new URL(server.url).port)
  const other = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address
  if (other) {
    const reached = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, other, () => {
        socket.destroy()
        resolve(true)
      })
      socket.on('error', () => resolve(false))
    })
    assert.is(reached, false, `reachable on ${other}`)
  }
})

test('no secret in any page or endpoint: passwords, the age identity, S3 credentials, webhook tokens', async () => {
  const { body: b } = await getJson(`${server.url}api/backups`)
  const { body: r } = await getJson(`${server.url}api/runs`)
  const paths = [
    '',
    'index.html',
    'assets/app.js',
    'api',
    'api/overview',
    'api/health',
    'api/health/history',
    'api/backups',
    'api/runs',
    'api/reindex',
    'api/migrations',
    ...b.sets.map((s: any) => `api/backups/${s.destination}/${encodeURIComponent(s.id)}`),
    ...r.runs.map((x: any) => `api/runs/${x.id}`),
  ]
  const texts = await Promise.all(paths.map(async (p) => (await fetch(server.url + p)).text()))
  texts.push(server.output())
  for (const [i, text] of texts.entries())
    for (const secret of project.secrets)
      assert.not.ok(text.includes(secret), `${paths[i] ?? 'output'} shows ${secret}`)
})

test('a public address needs a token: refused without one; 401 without it; the token never logged', async () => {
  const refused = await project.cli(['dashboard', '--host', '0.0.0.0', '--port', '0'])
  assert.is(refused.code, 2)
  assert.match(refused.stderr, /no token/)
  assert.match(refused.stderr, /DBOPS_DASHBOARD_TOKEN/)

  const open = await startDashboard(project, ['--host', '0.0.0.0'], {
    DBOPS_DASHBOARD_TOKEN: DASHBOARD_TOKEN,
  })
  try {
    const base = open.url.replace('0.0.0.0', '127.0.0.1')
    for (const p of ['', 'api/overview', 'api/runs', 'assets/app.js', 'api/events']) {
      const res = await fetch(base + p)
      assert.is(res.status, 401, p)
      assert.not.ok((await res.text()).includes(DASHBOARD_TOKEN))
    }
    assert.is(
      (await fetch(`${base}api/overview`, { headers: { authorization: 'Bearer wrong-token' } }))
        .status,
      401,
    )
    assert.is(
      (
        await fetch(`${base}api/overview`, {
          headers: { authorization: `Bearer ${DASHBOARD_TOKEN}` },
        })
      ).status,
      200,
    )
    // A first visit with ?token= sets a cookie and sends the browser to the address without it.
    const first = await fetch(`${base}?token=${DASHBOARD_TOKEN}`, { redirect: 'manual' })
    assert.is(first.status, 303)
    assert.is(first.headers.get('location'), '/')
    const cookie = first.headers.get('set-cookie')!.split(';')[0]!
    assert.match(first.headers.get('set-cookie')!, /HttpOnly/i)
    assert.is((await fetch(`${base}api/health`, { headers: { cookie } })).status, 200)
  } finally {
    await open.stop()
  }
  assert.not.ok(open.output().includes(DASHBOARD_TOKEN), open.output())
  assert.match(open.output(), /token required/)
})

test('sparklines and bars on a terminal; plain columns for pipes and --json', async () => {
  // `script` gives the CLI a pseudo-terminal, as a person's shell would.
  const tty = (args: string) =>
    new Promise<string>((resolve, reject) => {
      const env = { ...process.env, ...project.env, NO_COLOR: '1', CI: '1' }
      delete (env as Record<string, string | undefined>).DBOPS_TEST_PG
      execFile(
        'script',
        ['-qec', `node ${DBOPS_BIN} ${args}`, '/dev/null'],
        { cwd: project.dir, env },
        (error, stdout) =>
          error ? reject(new Error(`${error.message}\n${stdout}`)) : resolve(stdout),
      )
    })
  const pictures = /[▁▂▃▄▅▆▇█▏▎▍▌▋▊▉]/
  const backups = await tty('backups list --all')
  assert.match(backups, new RegExp(`${project.db.name}\\s+size \\S+\\s+duration \\S+\\s+1 set`))
  assert.match(backups, pictures)
  const runs = await tty('runs')
  assert.match(runs, /nightly\s+\S+\s+\d+ runs?, \d+ failed/)
  assert.match(runs, pictures)
  for (const args of [
    ['backups', 'list', '--all'],
    ['runs'],
    ['runs', '--json'],
    ['backups', 'list', '--json'],
  ]) {
    const piped = await project.cli(args)
    assert.is(piped.code, 0, piped.stderr)
    assert.not.match(piped.stdout, pictures, args.join(' '))
  }
})

test('the database stopped mid-session: the page says so and keeps what it last read', async () => {
  const cluster = await startCluster()
  let dashboard: Server | undefined
  try {
    const admin = new pg.Client({ connectionString: cluster.url('postgres') })
    await admin.connect()
    await admin.query('create database doomed')
    await admin.end()
    const own = await makeProject('doomed', {
      s3: false,
      db: {
        name: 'doomed',
        url: cluster.url('doomed'),
        passwordUrl: cluster.url('doomed'),
        cluster,
        query: async () => ({}) as never,
        drop: async () => {},
      },
    })
    try {
      dashboard = await startDashboard(own, ['--refresh', '0.3'])
      const before = (await getJson(`${dashboard.url}api/overview`)).body
      assert.is(before.database.up, true)
      assert.ok(before.health)
      assert.is(before.lastBackups.length, 1)
      await cluster.stop()
      const after = await until(async () => {
        const o = (await getJson(`${dashboard!.url}api/overview`)).body
        return o.database.up === false ? o : undefined
      }, 'the dashboard to see the database down')
      assert.match(after.database.error, /connect|refused|terminat|ECONNREFUSED/i)
      assert.ok(after.database.lastUpAt)
      assert.equal(after.health.counts, before.health.counts, 'health as last read')
      assert.is(after.lastBackups.length, 1, 'backups are read from storage, not the database')
      assert.is(after.sources.runs.stale, true)
      const page = await fetch(dashboard.url)
      assert.is(page.status, 200)
      const checks = (await getJson(`${dashboard.url}api/health`)).body
      assert.ok(checks.checks.length > 25)
      // A report written now says it is partial, and exits 1.
      const report = await own.cli(['report', '--html', 'partial.html'])
      assert.is(report.code, 1, report.stdout + report.stderr)
      assert.match(report.stderr, /part of it could not be read/)
      assert.ok((await import('node:fs')).existsSync(`${own.dir}/partial.html`))
    } finally {
      await dashboard?.stop()
      await own.remove()
    }
  } finally {
    await cluster.stop()
  }
})

test.run()
