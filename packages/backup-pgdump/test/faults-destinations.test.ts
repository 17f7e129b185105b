import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { createTestDatabase, startS3, type TestS3 } from '@dbops/test-utils'
import { closeProxies, recordingProxy } from '@dbops/test-utils'
import { configFile, filesUnder, json, makeWorkdir, runCli } from './helpers.ts'
import { mountForSuite, unmountAll } from './mounts.ts'
import { findProcesses } from './procs.ts'

/**
 * Destinations failing while the dump streams into them: a disk that fills up, an S3 server
 * that goes away, a network that stops answering. A failing destination is dropped at once,
 * the others complete; when none is left, pg_dump is stopped and the run ends; nothing
 * partial is left behind.
 */
const db = await createTestDatabase('pgdump_destfaults')
// About 14 MB once compressed: far more than the 5 MB disk, and three S3 parts of 5 MB.
await db.query(
  `create table blob as select g as id, decode(md5(g::text) || md5((g + 1)::text), 'hex') as body from generate_series(1, 600000) g; analyze blob`,
)
const env = { DATABASE_URL: db.passwordUrl }
/** A hung run is killed here, so that the test fails instead of hanging the suite. */
const SAFETY_NET = { signal: 'SIGKILL' as const, ms: 150_000 }
/** The generous bound of "within seconds", for a loaded machine. */
const WITHIN_SECONDS = 30_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves with the time `condition` first held, polling until `stop` says the run ended. */
async function firstTime(
  condition: () => boolean,
  ended: () => boolean,
): Promise<number | undefined> {
  while (!ended()) {
    if (condition()) return Date.now()
    await sleep(25)
  }
  return condition() ? Date.now() : undefined
}

async function runWatched(args: string[], cwd: string, condition: () => boolean) {
  let done = false
  const started = Date.now()
  const run = runCli(args, { cwd, env, signalAfterMs: SAFETY_NET }).finally(() => (done = true))
  const [r, seen] = await Promise.all([run, firstTime(condition, () => done)])
  return { ...r, started, seen: seen ?? started, ended: Date.now() }
}

/** After the run: no pg_dump of this database left, and no session of dbops on it. */
async function assertNothingRunning() {
  for (let i = 0; i < 400 && findProcesses('pg_dump', `PGDATABASE=${db.name}`).length > 0; i++)
    await sleep(25)
  assert.equal(findProcesses('pg_dump', `PGDATABASE=${db.name}`), [], 'pg_dump is still running')
  const sessions = async () =>
    Number(
      (
        await db.query(
          `select count(*)::int as n from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
          [db.name],
        )
      ).rows[0]!.n,
    )
  for (let i = 0; i < 400 && (await sessions()) > 0; i++) await sleep(25)
  assert.is(await sessions(), 0, 'a session of dbops (the snapshot) is still open')
}

const hidden = (dir: string) =>
  filesUnder(dir).filter((f) => path.basename(f).startsWith('.') || f.includes('partial'))
/** Everything under a directory, directories included: a failed object leaves not even its folder. */
const tree = (dir: string) =>
  existsSync(dir) ? (readdirSync(dir, { recursive: true }) as string[]).sort() : []

const disk = suite('a local destination whose disk fills up')
let work: Awaited<ReturnType<typeof makeWorkdir>>
let canMount = false
disk.before(async () => {
  work = await makeWorkdir()
  canMount = mountForSuite(path.join(work.dir, 'small'), { sizeMb: 5 })
  if (!canMount)
    console.log('  (skipped: mounting a tmpfs needs root; the disk-full tests did not run)')
})
disk.after(async () => {
  unmountAll()
  await work.remove()
})

disk(
  'the only destination fills up: pg_dump is stopped and the run exits 1 within seconds, naming the disk',
  async () => {
    if (!canMount) return
    await work.write(
      'dbops.config.ts',
      configFile(`{}`, { storage: `{ small: { dir: './small' } }` }),
    )
    const small = path.join(work.dir, 'small')
    const r = await runWatched(
      ['run', 'dump', '--json'],
      work.dir,
      () => filesUnder(small).length > 0,
    )
    assert.is(r.code, 1, r.stderr + r.stdout)
    assert.ok(
      r.ended - r.seen < WITHIN_SECONDS,
      `the run took ${r.ended - r.seen} ms after the first byte was stored`,
    )
    const step = json(r.stdout).steps[0]
    assert.is(step.error.code, 'BACKUP_DESTINATION_FAILED')
    assert.match(step.error.message, /could not be stored anywhere: small: .*(full|ENOSPC)/)
    assert.equal(tree(small), [], 'a partial object or a directory was left on the full disk')
    await assertNothingRunning()
  },
)

disk(
  'one of two destinations fills up: it is dropped at once, the other gets a complete set, the run names the failed one and why',
  async () => {
    if (!canMount) return
    await work.write(
      'dbops.config.ts',
      configFile(`{ verify: { level: 'archive', from: 'good' } }`, {
        storage: `{ small: { dir: './small' }, good: { dir: './good' } }`,
        pipelines: `{ backup: ['pgdump:dump', 'pgdump:verify'] }`,
      }),
    )
    const small = path.join(work.dir, 'small')
    const r = await runWatched(
      ['run', 'backup', '--json'],
      work.dir,
      () => filesUnder(small).length > 0,
    )
    assert.is(r.code, 1, r.stderr + r.stdout)
    assert.ok(r.ended - r.started < SAFETY_NET.ms, 'the run hung')
    const step = json(r.stdout).steps[0]
    assert.is(step.error.code, 'BACKUP_DESTINATION_FAILED')
    assert.match(step.error.message, /failed on small \(small: .*(full|ENOSPC)/)
    assert.match(step.error.message, /complete on good/)
    const good = filesUnder(path.join(work.dir, 'good'))
    assert.is(good.length, 2, good.join(', '))
    assert.ok(
      good.some((f) => f.endsWith('manifest.json')) &&
        good.some((f) => f.endsWith('dump.pgdump.zst')),
    )
    assert.equal(tree(small), [], 'a partial object or a directory was left on the full disk')
    // the complete copy is a real backup
    const v = await runCli(
      ['backups', 'verify', 'latest', '--level', 'archive', '--from', 'good'],
      { cwd: work.dir, env },
    )
    assert.is(v.code, 0, v.stderr + v.stdout)
    await assertNothingRunning()
  },
)

disk.run()

const s3 = suite('an S3 destination that goes away mid-upload')
let server: TestS3
s3.before.each(async () => {
  server = await startS3(['dbops-dest-faults'])
})
s3.after.each(async () => {
  await closeProxies()
  await server.stop().catch(() => {})
})

const s3Config = (endpoint: string) =>
  configFile(`{}`, {
    imports: `import { s3 } from '@dbops/storage-s3'`,
    storage: `{ local: { dir: './local' }, offsite: s3({ bucket: 'dbops-dest-faults', prefix: 'pg/', endpoint: '${endpoint}', forcePathStyle: true, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', partSizeMb: 5, queueSize: 1 }) }`,
  })

s3(
  'the S3 server stopped mid-upload: the local copy completes, the run exits 1 within seconds naming offsite and the upload left open',
  async () => {
    // Part 2 is held at the proxy until the server has been stopped: the upload is mid-way by construction.
    let stopped!: () => void
    const serverGone = new Promise<void>((resolve) => (stopped = resolve))
    let partTwoAt: number | undefined
    const proxy = await recordingProxy(server.endpoint, {
      hold: (req) => {
        if (!(req.url ?? '').includes('partNumber=2')) return undefined
        partTwoAt ??= Date.now()
        return serverGone
      },
    })
    const w = await makeWorkdir({ 'dbops.config.ts': s3Config(proxy.endpoint) })
    const stopping = (async () => {
      while (partTwoAt === undefined) await sleep(25)
      await server.stop()
      stopped()
    })()
    const r = await runCli(['run', 'dump', '--json'], {
      cwd: w.dir,
      env,
      signalAfterMs: SAFETY_NET,
    })
    const ended = Date.now()
    await stopping
    assert.is(r.code, 1, r.stderr + r.stdout)
    assert.ok(
      ended - partTwoAt! < WITHIN_SECONDS,
      `the run took ${ended - partTwoAt!} ms after the server went away`,
    )
    const step = json(r.stdout).steps[0]
    assert.is(step.error.code, 'BACKUP_DESTINATION_FAILED')
    assert.match(step.error.message, /failed on offsite/)
    assert.match(step.error.message, /complete on local/)
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(
      proxy.withQuery('uploads')[0]?.body ?? '',
    )?.[1]
    assert.ok(uploadId)
    // the server is gone, so the upload cannot be aborted now: the run says so, with the way out
    assert.match(
      step.error.message,
      new RegExp(`multipart upload ${uploadId} could not be aborted`),
    )
    assert.match(step.error.hint, /abort-multipart-upload .*--upload-id/)
    const local = filesUnder(path.join(w.dir, 'local'))
    assert.is(local.length, 2, local.join(', '))
    assert.equal(hidden(path.join(w.dir, 'local')), [], 'a .partial was left locally')
    await assertNothingRunning()
    await w.remove()
  },
)

s3(
  'the network to S3 drops mid-upload and --timeout ends the run: no .partial left, nothing running',
  async () => {
    // After the first part, the network swallows every request (no answer, no reset): only
    // --timeout can end this, and it must, although the abort of the upload cannot get through.
    let droppedAt: number | undefined
    const proxy = await recordingProxy(server.endpoint, {
      hold: (req) => {
        if (droppedAt === undefined && !(req.url ?? '').includes('partNumber=2')) return undefined
        droppedAt ??= Date.now()
        return 'forever'
      },
    })
    const w = await makeWorkdir({ 'dbops.config.ts': s3Config(proxy.endpoint) })
    const r = await runCli(['run', 'dump', '--json', '--timeout', '8s'], {
      cwd: w.dir,
      env,
      signalAfterMs: SAFETY_NET,
    })
    const ended = Date.now()
    assert.is(r.code, 1, r.stderr + r.stdout)
    assert.ok(droppedAt, 'the upload never reached part 2')
    assert.ok(
      ended - droppedAt! < 8_000 + WITHIN_SECONDS,
      `the run ended ${ended - droppedAt!} ms after the network dropped`,
    )
    assert.is(json(r.stdout).status, 'aborted')
    // the abort of the upload could not get through either: the run says which upload is left open
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(
      proxy.withQuery('uploads')[0]?.body ?? '',
    )?.[1]
    assert.match(
      r.stderr,
      new RegExp(
        `offsite: the upload of s3://dbops-dest-faults/pg/.* was stopped .*the multipart upload ${uploadId} could not be aborted`,
      ),
    )
    assert.match(r.stderr, /abort-multipart-upload .*--upload-id/)
    assert.equal(tree(path.join(w.dir, 'local')), [], 'something was left locally')
    assert.is(
      proxy.seen.filter((q) => q.method === 'POST' && q.url.includes('uploadId=')).length,
      0,
      'the upload was completed',
    )
    await assertNothingRunning()
    await w.remove()
  },
)

s3.after(async () => {
  await db.drop()
})
s3.run()
