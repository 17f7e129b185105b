import { createRequire } from 'node:module'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeWorkdir, runCli, TEST_PASSWORD } from '@dbops/test-utils'
import { configSource, TEST_PLUGIN } from './watch-helpers.ts'

// js-yaml comes with cosmiconfig: parse the manifests as Kubernetes would read them.
const yaml = createRequire(createRequire(import.meta.url).resolve('cosmiconfig'))('js-yaml') as {
  loadAll(text: string): unknown[]
}

const SCHEDULES = `schedules: {
  daily: { cron: '0 2 * * *', run: 'insert', tags: ['daily'], timezone: 'Europe/Berlin' },
  weekly: { cron: '0 3 * * 0', run: ['insert', 'flaky'], tags: ['weekly'], catchUp: 'latest' },
  often: { cron: '*/10 * * * * *', run: 'insert' },
},`
const env = {
  DATABASE_URL: `postgres://app:${encodeURIComponent(TEST_PASSWORD)}@db.internal:5432/app`,
}

test('schedule export --format crontab: one line per schedule with its time zone; per-second schedules left out with a warning', async () => {
  const work = await makeWorkdir({
    'test-plugin.ts': TEST_PLUGIN,
    'dbops.config.ts': configSource(SCHEDULES),
  })
  try {
    const r = await runCli(
      ['schedule', 'export', '--format', 'crontab', '--command', 'npx dbops'],
      { cwd: work.dir, env },
    )
    assert.is(r.code, 0, r.stderr)
    const lines = r.stdout.split('\n')
    const i = lines.indexOf('# daily')
    assert.is(lines[i + 1], 'CRON_TZ=Europe/Berlin')
    assert.is(lines[i + 2], `0 2 * * * cd ${work.dir} && npx dbops run insert --tag daily`)
    assert.ok(lines.includes(`0 3 * * 0 cd ${work.dir} && npx dbops run insert flaky --tag weekly`))
    assert.ok(lines.includes('CRON_TZ=UTC'))
    assert.ok(
      lines.some((l) =>
        /^# often: skipped: its cron '\*\/10 \* \* \* \* \*' has a seconds field/.test(l),
      ),
    )
    assert.match(r.stderr, /warning: schedule 'often' left out/)
    assert.not.match(r.stdout + r.stderr, TEST_PASSWORD)
  } finally {
    await work.remove()
  }
})

test('schedule export --format k8s: CronJobs with Forbid, time zone, image, secrets by reference only', async () => {
  const work = await makeWorkdir({
    'test-plugin.ts': TEST_PLUGIN,
    'dbops.config.ts': configSource(SCHEDULES),
  })
  try {
    const r = await runCli(
      [
        'schedule',
        'export',
        '--format',
        'k8s',
        '--image',
        'ghcr.io/acme/app-dbops:1.2',
        '--secret',
        'dbops-env',
        '--env',
        'DBOPS_LOG_LEVEL=info',
        '--namespace',
        'ops',
      ],
      { cwd: work.dir, env },
    )
    assert.is(r.code, 0, r.stderr)
    const docs = yaml.loadAll(r.stdout) as any[]
    assert.equal(
      docs.map((d) => d.metadata.name),
      ['dbops-daily', 'dbops-weekly'],
    )
    const [daily, weekly] = docs
    assert.is(daily.kind, 'CronJob')
    assert.is(daily.apiVersion, 'batch/v1')
    assert.is(daily.metadata.namespace, 'ops')
    assert.is(daily.spec.schedule, '0 2 * * *')
    assert.is(daily.spec.timeZone, 'Europe/Berlin')
    assert.is(daily.spec.concurrencyPolicy, 'Forbid')
    assert.is(daily.spec.startingDeadlineSeconds, 60)
    assert.is(weekly.spec.startingDeadlineSeconds, undefined) // catchUp latest: Kubernetes runs the missed one
    const pod = daily.spec.jobTemplate.spec.template.spec
    assert.is(pod.restartPolicy, 'Never')
    assert.is(pod.containers[0].image, 'ghcr.io/acme/app-dbops:1.2')
    assert.equal(pod.containers[0].args, ['run', 'insert', '--tag', 'daily'])
    assert.equal(pod.containers[0].envFrom, [{ secretRef: { name: 'dbops-env' } }])
    assert.equal(pod.containers[0].env, [{ name: 'DBOPS_LOG_LEVEL', value: 'info' }])
    assert.not.match(r.stdout, TEST_PASSWORD)
    assert.not.match(r.stdout, 'db.internal')

    const noImage = await runCli(['schedule', 'export', '--format', 'k8s'], { cwd: work.dir, env })
    assert.is(noImage.code, 2)
    assert.match(noImage.stderr, /--format k8s needs --image/)
    const badFormat = await runCli(['schedule', 'export', '--format', 'nomad'], {
      cwd: work.dir,
      env,
    })
    assert.is(badFormat.code, 2)
    assert.match(badFormat.stderr, /--format must be crontab or k8s, not 'nomad'/)
  } finally {
    await work.remove()
  }
})

test('dbops config redacts webhook and ping URLs', async () => {
  const work = await makeWorkdir({
    'test-plugin.ts': TEST_PLUGIN,
    'dbops.config.ts':
      configSource(`notify: [{ webhook: 'https://hooks.example.com/services/T0/B0/TOKEN-hook-11' }],
  schedules: { daily: { cron: '0 2 * * *', run: 'insert', ping: 'https://hc-ping.com/TOKEN-ping-22' } },`),
  })
  try {
    const r = await runCli(['config', '--json'], { cwd: work.dir, env })
    assert.is(r.code, 0, r.stderr)
    assert.not.match(r.stdout, 'TOKEN-')
    const config = JSON.parse(r.stdout)
    const found = JSON.stringify(config)
    assert.match(found, /"ping":"https:\/\/hc-ping\.com\/\[redacted\]"/)
    assert.match(found, /"webhook":"https:\/\/hooks\.example\.com\/\[redacted\]"/)
  } finally {
    await work.remove()
  }
})

test.run()
