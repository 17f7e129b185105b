// The aipromot app run by dbops, end to end, as its team would: a fresh database migrated,
// realistic data, the package.json scripts (each one dbops command), an encrypted backup
// verified by a real restore, health, optimize, a restore into a new database compared row
// by row count and index by index, the manual route for an existing database, and the
// scheduler. Everything through the real CLI, with a password-protected role so that a
// leaked secret would show.
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { readdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { generateX25519Identity, identityToRecipient } from 'age-encryption'
import pg from 'pg'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  createTestDatabase,
  repoTempDir,
  runCli,
  startS3,
  TEST_PASSWORD,
  type CliResult,
  type SignalWhen,
  type TestDatabase,
  type TestS3,
} from '@dbops/test-utils'
import { countRows, generateData } from '../scripts/generate-data.ts'
import {
  applyPrismaMigrations,
  describeSchema,
  EXAMPLE_DIR,
  indexNames,
  NAMED_INDEXES,
  PARTIAL_INDEXES,
} from './schema.ts'

const scripts = (
  JSON.parse(readFileSync(path.join(EXAMPLE_DIR, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>
  }
).scripts

let db: TestDatabase
let bucket: TestS3
let backupDir: string
let env: Record<string, string>
const outputs: string[] = []
const extraDatabases: string[] = []

async function dbops(
  args: string[],
  options: { env?: Record<string, string>; signalWhen?: SignalWhen } = {},
): Promise<CliResult> {
  const started = Date.now()
  const result = await runCli(args, {
    cwd: EXAMPLE_DIR,
    env: { ...env, ...options.env },
    signalWhen: options.signalWhen,
  })
  if (process.env.E2E_TIMING)
    process.stderr.write(`dbops ${args.join(' ')}: ${Date.now() - started} ms\n`)
  outputs.push(result.stdout, result.stderr)
  return result
}

/** Runs a package.json script the way `pnpm run <name>` would: its dbops command, in the example's directory. */
async function script(name: string, extra: string[] = []): Promise<CliResult> {
  const command = scripts[name]
  assert.ok(command?.startsWith('dbops '), `${name} should be one dbops command, is: ${command}`)
  return dbops([...command!.split(' ').slice(1), ...extra])
}

function ok(result: CliResult, what: string): void {
  assert.is(result.code, 0, `${what} exited ${result.code}:\n${result.stdout}\n${result.stderr}`)
}

/** Another database on the test cluster (created by the test or by dbops), dropped at the end. */
function otherDatabase(suffix: string): { name: string; client: pg.Client } {
  const name = `${db.name}_${suffix}`
  extraDatabases.push(name)
  const client = new pg.Client({ connectionString: db.cluster.url(name) })
  client.on('error', () => {})
  return { name, client }
}

test.before(async () => {
  db = await createTestDatabase('aipromot_e2e')
  bucket = await startS3(['aipromot-backups'])
  backupDir = await repoTempDir('aipromot-backups-')
  const identity = await generateX25519Identity()
  env = {
    DATABASE_URL: db.passwordUrl,
    BACKUP_DIR: backupDir,
    BACKUP_AGE_RECIPIENT: await identityToRecipient(identity),
    DBOPS_AGE_IDENTITY: identity,
    BACKUP_S3_BUCKET: 'aipromot-backups',
    BACKUP_S3_ENDPOINT: bucket.endpoint,
    AWS_ACCESS_KEY_ID: bucket.accessKeyId,
    AWS_SECRET_ACCESS_KEY: bucket.secretAccessKey,
    AWS_REGION: bucket.region,
  }
})

test.after(async () => {
  const admin = new pg.Client({ connectionString: db.cluster.url('postgres') })
  await admin.connect()
  for (const name of extraDatabases)
    await admin.query(`drop database if exists "${name}" with (force)`).catch(() => {})
  await admin.end()
  if (backupDir) await rm(backupDir, { recursive: true, force: true })
  await bucket?.stop()
  await db?.drop()
})

test('every old npm script is now one dbops command', () => {
  for (const name of [
    'db:migrate',
    'db:migrate:manual',
    'db:backup',
    'db:backup:schedule',
    'db:health',
    'db:optimize',
  ]) {
    assert.match(scripts[name] ?? '', /^dbops [a-z]/, name)
  }
})

test("the app's own environment names configure the pool, the replica, SSL and the destinations", async () => {
  const result = await dbops(['config', '--json'], {
    env: {
      NODE_ENV: 'production',
      DATABASE_READ_REPLICA_URL: db.passwordUrl.replace('127.0.0.1', 'replica.internal'),
      // Not dbops' defaults, so that only reading the variables can produce them.
      DB_CONNECTION_LIMIT: '12',
      DB_MAX_IDLE_TIME: '15000',
      DB_MAX_LIFE_TIME: '900000',
      DB_QUERY_TIMEOUT: '9000',
      BACKUP_RETENTION_DAYS: '14',
    },
  })
  ok(result, 'dbops config --json')
  const config = JSON.parse(result.stdout) as {
    connection: { readReplicaUrl: string; ssl: { rejectUnauthorized: boolean } }
    pool: { max: number; idleTimeoutMs: number; maxLifetimeMs: number; queryTimeoutMs: number }
    storage: Record<string, { type: string; dir?: string; bucket?: string; prefix?: string }>
    retention: { maxAgeDays: number }
    schedules: Record<string, { cron: string; run: string; tags: string[] }>
  }
  assert.equal(config.pool, {
    ...config.pool,
    max: 12,
    idleTimeoutMs: 15_000,
    maxLifetimeMs: 900_000,
    queryTimeoutMs: 9_000,
  })
  assert.match(config.connection.readReplicaUrl, /replica\.internal/)
  assert.equal(config.connection.ssl, { rejectUnauthorized: true })
  assert.is(config.storage.local?.dir, backupDir)
  assert.equal(
    [config.storage.offsite?.type, config.storage.offsite?.bucket, config.storage.offsite?.prefix],
    ['s3', 'aipromot-backups', 'database-backups/'],
  )
  assert.is(config.retention.maxAgeDays, 14)
  assert.equal(
    Object.fromEntries(
      Object.entries(config.schedules).map(([name, s]) => [
        name,
        `${s.cron} ${s.run}${s.tags.length ? ` [${s.tags.join(',')}]` : ''}`,
      ]),
    ),
    {
      daily: '0 2 * * * backup [daily]',
      weekly: '0 3 * * 0 backup [weekly]',
      cleanup: '0 4 * * * cleanup',
      optimize: '0 1 * * 6 optimize',
      health: '0 */6 * * * health',
    },
  )
})

test('production requires encryption and the offsite copy: both missing variables named, exit 2, nothing run', async () => {
  const result = await dbops(['run', 'backup'], {
    env: { NODE_ENV: 'production', BACKUP_AGE_RECIPIENT: '', BACKUP_S3_BUCKET: '' },
  })
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /BACKUP_AGE_RECIPIENT/)
  assert.match(result.stderr, /BACKUP_S3_BUCKET/)
  assert.equal(await readdir(backupDir), [])
})

test('a fresh database: dbops applies the Prisma migrations and records them in _prisma_migrations', async () => {
  // A brand-new database has nothing to back up yet: the first deploy runs the task alone.
  ok(await dbops(['run', 'migrate:apply']), 'migrate:apply')
  const names = await indexNames(db)
  for (const name of [...NAMED_INDEXES, ...PARTIAL_INDEXES])
    assert.ok(names.includes(name), `missing index ${name}`)
  const { rows } = await db.query<{ migration_name: string }>(
    `select migration_name from _prisma_migrations where finished_at is not null order by 1`,
  )
  assert.equal(
    rows.map((r) => r.migration_name),
    ['20250310091500_init', '20250602143000_add_email_verification_and_optimize_indexes'],
  )
})

test('data, then db:backup: one encrypted, compressed, verified set, locally and in S3', async () => {
  const counts = await generateData(db)
  assert.ok(
    counts.analytics >= 10_000,
    `tens of thousands of analytics rows, got ${counts.analytics}`,
  )
  ok(await script('db:backup'), 'db:backup')
  const list = await dbops(['backups', 'list', '--json'])
  ok(list, 'backups list')
  const { backups } = JSON.parse(list.stdout) as {
    backups: {
      id: string
      encrypted: boolean
      verified: boolean
      compression: string
      destination: string
    }[]
  }
  assert.equal(backups.map((b) => b.destination).sort(), ['local', 'offsite'])
  assert.is(new Set(backups.map((b) => b.id)).size, 1, 'one set, in both destinations')
  for (const b of backups) {
    assert.ok(b.encrypted, `the set is encrypted in ${b.destination}`)
    assert.ok(['zstd', 'gzip'].includes(b.compression), `compressed, got ${b.compression}`)
  }
  assert.ok(backups.find((b) => b.destination === 'local')!.verified, 'the set is verified')
  const stored = await readdir(bucket.dir, { recursive: true })
  assert.ok(
    stored.some((f) => f.includes('database-backups')),
    `objects under database-backups/ in the bucket: ${stored.join(', ')}`,
  )
  // The dump on disk is an age file for the team's key: nothing in it is readable without the identity.
  const files = await readdir(backupDir, { recursive: true })
  const dump = files.find((f) => /dump/.test(f))
  assert.ok(dump, `a dump file in ${files.join(', ')}`)
  const bytes = readFileSync(path.join(backupDir, dump!))
  assert.ok(
    bytes.subarray(0, 21).toString() === 'age-encryption.org/v1',
    'the dump is age-encrypted',
  )
  const manifestFile = files.find((f) => f.endsWith('manifest.json'))!
  const manifest = JSON.parse(readFileSync(path.join(backupDir, manifestFile), 'utf8')) as {
    encryption: { recipients: string[] } | null
  }
  assert.equal(manifest.encryption?.recipients, [env.BACKUP_AGE_RECIPIENT])
  assert.not.ok(
    readFileSync(path.join(backupDir, manifestFile), 'utf8').includes('AGE-SECRET-KEY'),
    'the identity never reaches the manifest',
  )
})

test('the backup restores: verify --level restore compares every table in a scratch database', async () => {
  ok(
    await dbops(['backups', 'verify', 'latest', '--level', 'restore']),
    'backups verify --level restore',
  )
})

test('db:health runs every check; it flags the redundant token index the team added', async () => {
  const json = await script('db:health', ['--format', 'json'])
  ok(json, 'db:health --format json')
  const report = JSON.parse(json.stdout) as {
    status: string
    checks: { check: string; status: string; findings?: { object: string }[] }[]
  }
  assert.ok(['ok', 'warning'].includes(report.status), `status ${report.status}`)
  const duplicate = report.checks.find((c) => c.check === 'duplicate_indexes')
  assert.is(duplicate?.status, 'warning')
  assert.ok(duplicate?.findings?.some((f) => f.object.includes('users_emailVerificationToken_idx')))
  assert.is(report.checks.find((c) => c.check === 'backup_freshness')?.status, 'ok')
  assert.is(report.checks.find((c) => c.check === 'invalid_indexes')?.status, 'ok')
})

test('db:optimize plans, rebuilds what is bloated and analyzes, leaving every index valid', async () => {
  ok(await script('db:optimize'), 'db:optimize')
  const names = await indexNames(db)
  for (const name of [...NAMED_INDEXES, ...PARTIAL_INDEXES])
    assert.ok(names.includes(name), `index ${name} after optimize`)
})

test('restore into a new database: the same rows, the same schema', async () => {
  const target = otherDatabase('restored')
  try {
    ok(
      await dbops(['backups', 'restore', 'latest', '--target-db', target.name, '--create']),
      'backups restore',
    )
    await target.client.connect()
    assert.equal(await countRows(target.client), await countRows(db))
    const restored = await describeSchema(target.client)
    const original = await describeSchema(db)
    assert.equal(restored.indexes, original.indexes)
    assert.equal(restored.constraints, original.constraints)
    assert.equal(restored.columns, original.columns)
  } finally {
    await target.client.end()
  }
})

test("the server's disk is lost: restore from S3 alone", async () => {
  if (backupDir) await rm(backupDir, { recursive: true, force: true })
  const list = await dbops(['backups', 'list', '--json'])
  ok(list, 'backups list without the local copies')
  const { backups } = JSON.parse(list.stdout) as { backups: { id: string; destination: string }[] }
  assert.equal(
    backups.map((b) => b.destination),
    ['offsite'],
  )
  const target = otherDatabase('from_s3')
  try {
    ok(
      await dbops([
        'backups',
        'restore',
        'latest',
        '--from',
        'offsite',
        '--target-db',
        target.name,
        '--create',
      ]),
      'restore --from offsite',
    )
    await target.client.connect()
    assert.equal(await countRows(target.client), await countRows(db))
  } finally {
    await target.client.end().catch(() => {})
  }
})

test('restoring over the live database is refused unless named', async () => {
  const result = await dbops(['backups', 'restore', 'latest', '--target-db', db.name])
  assert.is.not(result.code, 0)
  assert.match(result.stderr, /configured primary/)
})

test('an existing database: db:migrate:manual backs up, then upgrades it in place to the same schema', async () => {
  const existing = otherDatabase('existing')
  try {
    const admin = new pg.Client({ connectionString: db.cluster.url('postgres') })
    await admin.connect()
    await admin.query(`create database "${existing.name}"`)
    await admin.end()
    const existingEnv = { DATABASE_URL: db.passwordUrl.replace(`/${db.name}`, `/${existing.name}`) }
    // The database as it was before the fix, built without migration history (`prisma db push`).
    await existing.client.connect()
    await applyPrismaMigrations(existing.client, { only: ['_init'] })
    await existing.client.query(
      `insert into organizations (id, name, slug, "updatedAt") values ('o1', 'Acme', 'acme', now())`,
    )
    await existing.client.query(
      `insert into users (id, email, "passwordHash", "organizationId", "updatedAt") values ('u1', 'a@acme.test', 'x', 'o1', now())`,
    )

    const manual = await dbops(scripts['db:migrate:manual']!.split(' ').slice(1), {
      env: existingEnv,
    })
    ok(manual, 'db:migrate:manual')
    assert.match(
      manual.stdout + manual.stderr,
      /back up with pg_dump[\s\S]*manual_add_email_verification_and_optimize_indexes\.sql/,
    )
    assert.equal(
      (await describeSchema(existing.client)).indexes,
      (await describeSchema(db)).indexes,
    )
    assert.equal(
      (await describeSchema(existing.client)).columns,
      (await describeSchema(db)).columns,
    )
    const { rows } = await existing.client.query(`select email from users`)
    assert.equal(rows, [{ email: 'a@acme.test' }])

    // Record in Prisma's ledger that the schema is at the second migration: nothing pending,
    // and `db:migrate` applies only what comes after.
    ok(
      await dbops(['migrate', 'baseline', '20250602143000'], { env: existingEnv }),
      'migrate baseline',
    )
    ok(await dbops(['migrate', 'status'], { env: existingEnv }), 'migrate status after baseline')
  } finally {
    await existing.client.end().catch(() => {})
  }
})

test('db:backup:schedule runs the scheduler with the five schedules, and stops cleanly', async () => {
  const command = scripts['db:backup:schedule']!.split(' ').slice(1)
  const names = ['daily', 'weekly', 'cleanup', 'optimize', 'health']
  // Stop it once it has said it runs every schedule, however long start-up took.
  const announced = ({ stdout, stderr }: { stdout: string; stderr: string }) =>
    names.every((name) => (stdout + stderr).includes(`"${name}"`))
  const result = await dbops([...command, '--log-format', 'json'], {
    signalWhen: { signal: 'SIGTERM', when: announced },
  })
  ok(result, 'db:backup:schedule (stopped by SIGTERM)')
  const log = result.stdout + result.stderr
  for (const name of names)
    assert.match(log, new RegExp(`"${name}"`), `schedule ${name} in:\n${log}`)
})

test('a failed backup alerts the team (ALERT_WEBHOOK_URL), without the password', async () => {
  const received: string[] = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      received.push(body)
      res.end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dbops`
    const gone = db.passwordUrl.replace(`/${db.name}`, `/${db.name}_gone`)
    const result = await dbops(['run', 'backup'], {
      env: { DATABASE_URL: gone, ALERT_WEBHOOK_URL: webhook },
    })
    assert.is(result.code, 1, result.stderr)
    // Delivery is at least once (a slow answer is retried): every copy is the same alert.
    assert.ok(received.length >= 1, 'an alert was posted')
    const alerts = received.map(
      (body) =>
        JSON.parse(body) as {
          event: string
          text: string
          run: { runId: string; pipelines: string[] }
        },
    )
    assert.is(new Set(alerts.map((a) => a.run.runId)).size, 1, 'one run, one alert')
    assert.is(alerts[0]!.event, 'failure')
    assert.equal(alerts[0]!.run.pipelines, ['backup'])
    assert.match(alerts[0]!.text, /backup FAILED/)
    for (const body of received) assert.not.ok(body.includes(TEST_PASSWORD))
  } finally {
    server.close()
  }
})

test('no output of any command contains the database password or the backup key', () => {
  assert.ok(outputs.length > 10)
  for (const text of outputs) {
    assert.not.ok(text.includes(TEST_PASSWORD), `password leaked in:\n${text.slice(0, 500)}`)
    assert.not.ok(
      text.includes(env.DBOPS_AGE_IDENTITY!),
      `age identity leaked in:\n${text.slice(0, 500)}`,
    )
  }
})

test.run()
