import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeWorkdir, runCli, startS3, type TestS3 } from '@dbops/test-utils'

/** `s3({...})` as a user writes it in dbops.config.ts, checked through the real CLI. */
const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
const KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKENvalue'
const ENV = { DATABASE_URL: 'postgres://app@127.0.0.1:1/app' } // never connected to by these commands

const config = (storage: string, extra = '') => `import { defineConfig } from 'dbops'
import s3 from '@dbops/storage-s3'

export default defineConfig({
  storage: { offsite: s3(${storage}) },
  ${extra}
})
`

let s3: TestS3
test.before(async () => {
  s3 = await startS3(['dbops-cli'])
})
test.after(async () => {
  await s3.stop()
})

const assertNoSecret = (output: string) => {
  for (const secret of [SECRET, KEY_ID, TOKEN])
    assert.not.ok(output.includes(secret), `the output holds ${secret.slice(0, 6)}…`)
}

test('a config with s3({...}) validates, and `dbops config` shows it with every credential redacted', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': config(`{
      bucket: 'acme-backups', prefix: 'database-backups/', region: 'eu-west-1',
      accessKeyId: '${KEY_ID}', secretAccessKey: '${SECRET}', sessionToken: '${TOKEN}',
      storageClass: 'STANDARD_IA', serverSideEncryption: 'aws:kms', kmsKeyId: 'alias/backups', partSizeMb: 32, queueSize: 8,
    }`),
  })
  try {
    const json = await runCli(['config', '--json'], { cwd: work.dir, env: ENV })
    assert.is(json.code, 0, json.stderr)
    assertNoSecret(json.stdout + json.stderr)
    const offsite = JSON.parse(json.stdout).storage.offsite
    assert.is(offsite.type, 's3')
    assert.is(offsite.bucket, 'acme-backups')
    assert.is(offsite.storageClass, 'STANDARD_IA')
    assert.is(offsite.accessKeyId, '[redacted]')
    assert.is(offsite.secretAccessKey, '[redacted]')
    assert.is(offsite.sessionToken, '[redacted]')

    const text = await runCli(['config'], { cwd: work.dir, env: ENV })
    assert.is(text.code, 0, text.stderr)
    assert.match(text.stdout, /acme-backups/)
    assertNoSecret(text.stdout + text.stderr)
  } finally {
    await work.remove()
  }
})

test('bad s3 options are reported together as storage.<name>.<key> lines, exit 2, no secret', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': config(
      `{ bucket: 'acme-backups', secretAccessKey: '${SECRET}', partSizeMb: 2, storageClass: 'COLD' as never, regoin: 'eu-west-1' } as never`,
    ),
  })
  try {
    const result = await runCli(['config', '--json'], { cwd: work.dir, env: ENV })
    const output = result.stdout + result.stderr
    assert.is(result.code, 2, output)
    assert.match(output, /storage\.offsite\.partSizeMb: .*5/)
    assert.match(output, /storage\.offsite\.storageClass: .*STANDARD_IA/)
    assert.match(output, /storage\.offsite\.regoin: unknown key \(did you mean 'region'\?\)/)
    assertNoSecret(output)
  } finally {
    await work.remove()
  }
})

test('options that only make sense together are checked: bucket name, key pair, KMS key', async () => {
  const work = await makeWorkdir({
    'dbops.config.ts': config(
      `{ bucket: 's3://Acme_Backups', secretAccessKey: '${SECRET}', kmsKeyId: 'alias/x', endpoint: 'minio:9000' }`,
    ),
  })
  try {
    const result = await runCli(['config'], { cwd: work.dir, env: ENV })
    const output = result.stdout + result.stderr
    assert.is(result.code, 2, output)
    assert.match(output, /storage\.offsite\.endpoint: expected an http\(s\) URL/)
    const fixed = await work.write(
      'dbops.config.ts',
      config(`{ bucket: 's3://Acme_Backups', secretAccessKey: '${SECRET}', kmsKeyId: 'alias/x' }`),
    )
    assert.ok(fixed)
    const again = await runCli(['config'], { cwd: work.dir, env: ENV })
    const lines = again.stdout + again.stderr
    assert.is(again.code, 2, lines)
    assert.match(lines, /storage\.offsite\.bucket: 's3:\/\/Acme_Backups' is not a bucket name/)
    assert.match(
      lines,
      /storage\.offsite\.accessKeyId: accessKeyId and secretAccessKey go together/,
    )
    assert.match(
      lines,
      /storage\.offsite\.kmsKeyId: kmsKeyId needs serverSideEncryption: 'aws:kms'/,
    )
    assertNoSecret(lines)
  } finally {
    await work.remove()
  }
})

test('BACKUP_S3_BUCKET fills a bucket left out; without it the bucket is reported missing', async () => {
  const work = await makeWorkdir({ 'dbops.config.ts': config('') })
  try {
    const missing = await runCli(['config'], { cwd: work.dir, env: ENV })
    assert.is(missing.code, 2)
    assert.match(
      missing.stdout + missing.stderr,
      /storage\.offsite\.bucket: required: set bucket, or the environment variable BACKUP_S3_BUCKET/,
    )
    const filled = await runCli(['config', '--json'], {
      cwd: work.dir,
      env: { ...ENV, BACKUP_S3_BUCKET: 'env-bucket' },
    })
    assert.is(filled.code, 0, filled.stderr)
    assert.is(
      JSON.parse(filled.stdout).storage.offsite.bucket,
      'env-bucket',
      'dbops config shows the validated options',
    )
  } finally {
    await work.remove()
  }
})

test('through `dbops run`, an S3 destination is used for real, and a missing bucket fails with the sentence and no secret', async () => {
  const storage = (bucket: string) =>
    `{ bucket: '${bucket}', endpoint: '${s3.endpoint}', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: process.env.S3_SECRET }`
  const extra = `pipelines: { cleanup: ['retention:apply'] },`
  const env = { ...ENV, S3_SECRET: 'S3RVER' }
  const work = await makeWorkdir({ 'dbops.config.ts': config(storage('dbops-cli'), extra) })
  try {
    const ok = await runCli(['run', 'cleanup', '--json'], { cwd: work.dir, env })
    assert.is(ok.code, 0, ok.stdout + ok.stderr)
    await work.write('dbops.config.ts', config(storage('no-such-bucket'), extra))
    const failed = await runCli(['run', 'cleanup', '--json'], { cwd: work.dir, env })
    const output = failed.stdout + failed.stderr
    assert.is(failed.code, 1, output)
    assert.match(output, /the bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1:\d+/)
    assert.not.ok(output.includes('S3RVER'), 'the credentials are not printed')
  } finally {
    await work.remove()
  }
})

test.run()
