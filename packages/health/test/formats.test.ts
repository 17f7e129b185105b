// The report formats a team plugs in: Prometheus exposition, the Nagios line and exit codes,
// text for people, and the health:check task in a pipeline.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { createTestDatabase, runCli, type TestDatabase } from '@dbops/test-utils'
import { parseThreshold } from '../src/thresholds.ts'
import { healthProject } from './setup.ts'

let db: TestDatabase
let project: Awaited<ReturnType<typeof healthProject>>
const cli = (args: string[]) =>
  runCli(args, { cwd: project.dir, env: { DATABASE_URL: db.passwordUrl } })

test.before(async () => {
  db = await createTestDatabase('health_formats')
  await db.query(`
    create table dup (a int, b int);
    create index dup_a on dup (a);
    create index dup_a_b on dup (a, b);
    create table trg (id int);
    create function noop() returns trigger language plpgsql as $$ begin return new; end $$;
    create trigger t_noop before insert on trg for each row execute function noop();
    alter table trg disable trigger t_noop;
  `)
  project = await healthProject(`{ prometheus: { textfile: 'metrics/health.prom' } }`)
})

test.after(async () => {
  await project.remove()
  await db.drop()
})

/** A strict reader of the Prometheus text format (0.0.4): every sample of a family follows its HELP and TYPE. */
function parseExposition(
  text: string,
): Map<
  string,
  { type: string; help: string; samples: { labels: Record<string, string>; value: number }[] }
> {
  const families = new Map<
    string,
    { type: string; help: string; samples: { labels: Record<string, string>; value: number }[] }
  >()
  assert.ok(text.endsWith('\n'), 'the exposition ends with a newline')
  const HELP = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/
  const TYPE = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter|untyped)$/
  const SAMPLE =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\} (-?[0-9.e+-]+|NaN|[+-]Inf)$/
  for (const line of text.slice(0, -1).split('\n')) {
    const help = HELP.exec(line)
    const type = help ? null : TYPE.exec(line)
    const sample = help || type ? null : SAMPLE.exec(line)
    if (help) {
      assert.not.ok(families.has(help[1]!), `HELP of ${help[1]} given twice`)
      families.set(help[1]!, { help: help[2]!, type: '', samples: [] })
    } else if (type) {
      const f = families.get(type[1]!)
      assert.ok(
        f && f.type === '' && f.samples.length === 0,
        `TYPE of ${type[1]} must follow its HELP, before samples`,
      )
      f.type = type[2]!
    } else if (sample) {
      const f = families.get(sample[1]!)
      assert.ok(f?.type, `sample of ${sample[1]} before its HELP/TYPE`)
      const labels: Record<string, string> = {}
      for (const l of sample[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]!] = l[2]!
      f.samples.push({ labels, value: Number(sample[3]) })
    } else assert.unreachable(`not a valid exposition line: ${JSON.stringify(line)}`)
  }
  return families
}

test('prometheus: parses; one status series per check; thresholds and run gauges; textfile written atomically', async () => {
  const r = await cli(['health', '--format', 'prometheus'])
  assert.is(r.code, 1) // the disabled trigger is critical
  const families = parseExposition(r.stdout)
  for (const name of [
    'dbops_health_check_status',
    'dbops_health_check_value',
    'dbops_health_check_warning_threshold',
    'dbops_health_check_critical_threshold',
    'dbops_health_check_findings',
    'dbops_health_check_duration_seconds',
    'dbops_health_status',
    'dbops_health_up',
    'dbops_health_last_run_timestamp_seconds',
  ]) {
    assert.ok(families.has(name), name)
    assert.is(families.get(name)!.type, 'gauge')
  }
  const status = families.get('dbops_health_check_status')!.samples
  const byCheck = new Map(status.map((s) => [s.labels.check, s.value]))
  assert.is(byCheck.get('duplicate_indexes'), 1)
  assert.is(byCheck.get('disabled_triggers'), 2)
  assert.is(byCheck.get('connection'), 0)
  assert.not.ok(byCheck.has('replication_lag'), 'skipped checks are left out')
  assert.ok(status.every((s) => s.labels.database === db.name))
  assert.is(families.get('dbops_health_status')!.samples[0]!.value, 2)
  assert.is(families.get('dbops_health_up')!.samples[0]!.value, 1)
  assert.is(
    families
      .get('dbops_health_check_value')!
      .samples.find((s) => s.labels.check === 'duplicate_indexes')!.value,
    1,
  )
  // the textfile from the config: complete, parseable, no temp file left beside it
  const file = path.join(project.dir, 'metrics', 'health.prom')
  assert.ok(existsSync(file), 'the configured textfile (its directory created)')
  const written = parseExposition(readFileSync(file, 'utf8'))
  assert.is(written.get('dbops_health_status')!.samples[0]!.value, 2)
  assert.equal(readdirSync(path.dirname(file)), ['health.prom'])
})

test('prometheus: --textfile writes the exposition atomically (temp file + rename)', async () => {
  const file = path.join(project.dir, 'health.prom')
  const r = await runCli(['health', '--only', 'connection,duplicate_indexes', '--textfile', file], {
    cwd: project.dir,
    env: { DATABASE_URL: db.passwordUrl },
  })
  assert.ok(r.code === 0 || r.code === 1, r.stderr)
  const families = parseExposition(readFileSync(file, 'utf8'))
  assert.is(families.get('dbops_health_check_status')!.samples.length, 2)
  assert.equal(
    readdirSync(project.dir).filter((f) => f.includes('.tmp')),
    [],
  )
})

test('nagios: one line with perfdata; exit 0/1/2 by the worst status', async () => {
  const ok = await cli(['health', '--format', 'nagios', '--only', 'connection,invalid_indexes'])
  assert.is(ok.code, 0)
  assert.match(
    ok.stdout,
    /^DBOPS_HEALTH OK: 2 checks ok \| 'connection'=[0-9.]+ms;500;2000 'invalid_indexes'=0;1; 'time'=[0-9.]+s\n$/,
  )
  const warn = await cli(['health', '--format', 'nagios', '--only', 'connection,duplicate_indexes'])
  assert.is(warn.code, 1)
  assert.match(
    warn.stdout,
    /^DBOPS_HEALTH WARNING: WARNING duplicate_indexes: 1 redundant index\(es\): dup_a \(covered by dup_a_b\) \| .*'duplicate_indexes'=1;1;/,
  )
  assert.is(warn.stdout.trim().split('\n').length, 1)
  const crit = await cli([
    'health',
    '--format',
    'nagios',
    '--only',
    'duplicate_indexes,disabled_triggers',
  ])
  assert.is(crit.code, 2)
  assert.match(
    crit.stdout,
    /^DBOPS_HEALTH CRITICAL: CRITICAL disabled_triggers: .*; WARNING duplicate_indexes: /,
  )
})

test('text: a table with status, value, threshold; objects and a hint under each finding; exit 0 on warnings', async () => {
  const r = await cli(['health', '--only', 'connection,duplicate_indexes,replication_lag'])
  assert.is(r.code, 0, r.stderr)
  assert.match(r.stdout, /^STATUS\s+CHECK\s+VALUE\s+THRESHOLD\s+DETAIL$/m)
  assert.match(
    r.stdout,
    /^OK\s+connection\s+[0-9.]+ ms\s+w>=500 ms c>=2000 ms\s+connected as dbops_test/m,
  )
  assert.match(r.stdout, /^WARN\s+duplicate_indexes\s+1\s+w>=1\s+1 redundant index/m)
  assert.match(r.stdout, /^\s+- dup_a: a prefix of dup_a_b/m)
  assert.match(r.stdout, /^\s+hint: The listed index is covered/m)
  assert.match(r.stdout, /^SKIP\s+replication_lag/m)
  assert.match(r.stdout, /1 ok, 1 warning, 0 critical, 0 unknown, 1 skipped/)
  const failOnWarning = await cli(['health', '--only', 'duplicate_indexes', '--fail-on', 'warning'])
  assert.is(failOnWarning.code, 1)
})

test('json: every finding with its objects; --json means --format json', async () => {
  const r = await cli(['health', '--json', '--only', 'duplicate_indexes,disabled_triggers'])
  assert.is(r.code, 1)
  const report = JSON.parse(r.stdout)
  assert.is(report.schemaVersion, 1)
  assert.is(report.status, 'critical')
  assert.match(report.target, /^dbops_test@127\.0\.0\.1:\d+\//)
  assert.equal(
    report.checks.map((c: { check: string }) => c.check),
    ['disabled_triggers', 'duplicate_indexes'],
  )
  assert.equal(report.checks[0].findings[0].object, 'trg.t_noop')
})

test('health:check in a pipeline: its result is the report; a critical finding fails the step', async () => {
  const failing = await cli(['run', 'health', '--json'])
  assert.is(failing.code, 1)
  const run = JSON.parse(failing.stdout)
  assert.is(run.steps[0].id, 'health:check')
  assert.is(run.steps[0].status, 'failed')
  assert.is(run.steps[0].error.code, 'HEALTH_CRITICAL')
  assert.match(
    run.steps[0].error.message,
    /CRITICAL disabled_triggers: 1 disabled trigger\(s\): trg\.t_noop/,
  )
  // the failed step still carries the whole report
  assert.is(run.steps[0].result.status, 'critical')
  assert.ok(
    run.steps[0].result.checks.some(
      (c: { check: string; findings: { object: string }[] }) =>
        c.check === 'disabled_triggers' && c.findings[0]!.object === 'trg.t_noop',
    ),
  )

  await db.query('alter table trg enable trigger t_noop')
  const passing = await cli(['run', 'health', '--json'])
  assert.is(passing.code, 0, passing.stdout + passing.stderr)
  const ok = JSON.parse(passing.stdout)
  assert.is(ok.steps[0].status, 'success')
  assert.match(
    ok.steps[0].summary,
    /^WARNING: 1 warning \(duplicate_indexes\), \d+ ok, \d+ skipped in [0-9.]+ s$/,
  )
  assert.is(ok.steps[0].result.status, 'warning')
  assert.ok(ok.steps[0].result.checks.length > 25)
  await db.query('alter table trg disable trigger t_noop')
})

test('version: a known-bad range from the config is critical and says why', async () => {
  const p = await healthProject(
    `{ checks: { version: { knownBad: [{ from: 150000, to: 159999, why: 'test range: upgrade to 16' }] } } }`,
  )
  try {
    const r = await runCli(['health', '--only', 'version'], {
      cwd: p.dir,
      env: { DATABASE_URL: db.passwordUrl },
    })
    assert.is(r.code, 1)
    assert.match(
      r.stdout,
      /^CRIT\s+version\s+15\d{4}\s+-\s+PostgreSQL 15\.\d+.*: test range: upgrade to 16$/m,
    )
  } finally {
    await p.remove()
  }
})

test('thresholds parse with units and reject nonsense', () => {
  const good: [number | string, Parameters<typeof parseThreshold>[1], number][] = [
    ['90s', 'seconds', 90],
    ['5m', 'seconds', 300],
    ['2h', 'seconds', 7200],
    ['1d', 'seconds', 86400],
    ['500ms', 'seconds', 0.5],
    [45, 'seconds', 45],
    ['250ms', 'ms', 250],
    ['2s', 'ms', 2000],
    ['90%', 'percent', 90],
    [85, 'percent', 85],
    ['100MB', 'bytes', 100 * 1024 ** 2],
    ['1 GB', 'bytes', 1024 ** 3],
    ['512kB', 'bytes', 512 * 1024],
    ['10MiB', 'bytes', 10 * 1024 ** 2],
    ['3', 'count', 3],
  ]
  for (const [input, unit, expected] of good)
    assert.is(parseThreshold(input, unit), expected, `${input} ${unit}`)
  const bad: [number | string, Parameters<typeof parseThreshold>[1]][] = [
    ['5 minuts', 'seconds'],
    ['fast', 'ms'],
    ['120%', 'percent'],
    ['1 XB', 'bytes'],
    ['3 things', 'count'],
    [-1, 'count'],
    ['', 'seconds'],
  ]
  for (const [input, unit] of bad)
    assert.throws(() => parseThreshold(input, unit), undefined, `${input} ${unit}`)
})

test.run()
