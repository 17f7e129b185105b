import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { readdir } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import { S3ServiceException } from '@aws-sdk/client-s3'
import { isAbortError } from 'dbops/plugin'
import { startS3, type TestS3 } from '@dbops/test-utils'
import { closeStorages, createS3Storage } from './tracked.ts'
import { s3Error, type S3Call } from '../src/errors.ts'
import { closeProxies, recordingProxy, uploadIdOf } from '@dbops/test-utils'
import {
  bytes,
  failingStream,
  MiB,
  optionsFor,
  sha256,
  stallingStream,
  streamOf,
} from './streams.ts'

/**
 * What happens when an upload cannot finish. s3rver implements neither
 * ListMultipartUploads nor AbortMultipartUpload (it answers 405), so these tests prove the
 * abort through a recording proxy: the DELETE ?uploadId=<id> of the very upload that was
 * created reaches the server after the last part request, and no object appears.
 */
let s3: TestS3

test.before(async () => {
  s3 = await startS3(['dbops-faults'])
})
test.after(async () => {
  await closeProxies()
  await closeStorages()
  await s3.stop()
})

type Proxy = Awaited<ReturnType<typeof recordingProxy>>

function assertAbortedAtServer(proxy: Proxy, key: string) {
  const created = proxy.withQuery('uploads').filter((r) => r.url.includes(key))
  assert.is(created.length, 1, 'one multipart upload was created')
  const uploadId = uploadIdOf(created[0])
  assert.ok(uploadId, 'the server answered with an upload id')
  const aborts = proxy.seen.filter(
    (r) => r.method === 'DELETE' && r.url.includes(`uploadId=${uploadId}`),
  )
  assert.is(aborts.length, 1, 'AbortMultipartUpload of that upload reached the server')
  const abortAt = proxy.seen.indexOf(aborts[0]!)
  const partsAfter = proxy.seen
    .slice(abortAt + 1)
    .filter((r) => r.url.includes('partNumber=') && r.url.includes(uploadId))
  assert.is(partsAfter.length, 0, 'no part was sent after the abort')
  assert.is(
    proxy.seen.filter((r) => r.method === 'POST' && r.url.includes(`uploadId=${uploadId}`)).length,
    0,
    'the upload was never completed',
  )
  return uploadId
}

/** s3rver keeps an open upload's parts in <dir>/<bucket>/.../uploads/<id>/. */
async function uploadDirs(bucket: string): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string) => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (!entry.isDirectory()) continue
      if (entry.name === 'uploads') found.push(...(await readdir(path.join(dir, entry.name))))
      else await walk(path.join(dir, entry.name))
    }
  }
  await walk(path.join(s3.dir, bucket))
  return found
}

test('a source that fails mid-stream aborts the multipart upload and leaves no object', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 2 }, proxy.endpoint),
    'offsite',
  )
  const error = await storage
    .put('fail/source.bin', failingStream(12 * MiB, 'pg_dump exited with code 1'))
    .then(
      () => null,
      (e: Error & { code?: string }) => e,
    )
  assert.ok(error, 'put rejects')
  assert.match(
    error.message,
    /pg_dump exited with code 1/,
    'the source failure is what the error says',
  )
  const uploadId = assertAbortedAtServer(proxy, 'fail/source.bin')
  // s3rver cannot abort (405), so the error must say that parts were left, with the way out.
  assert.is(error.code, 'STORAGE_S3_UPLOAD_LEFT_OPEN')
  assert.match(error.message, new RegExp(`multipart upload ${uploadId} could not be aborted`))
  assert.match((error as unknown as { hint: string }).hint, /abort-multipart-upload .*--upload-id/)
  assert.is(await storage.head('fail/source.bin'), null, 'no object under the key')
  await storage.close?.()
  await proxy.close()
})

test('aborting the signal mid-upload stops the parts in flight and aborts the upload', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 2 }, proxy.endpoint),
    'offsite',
  )
  const controller = new AbortController()
  const body = stallingStream(11 * MiB) // two parts go up, then the source hangs
  const putting = storage.put('fail/aborted.bin', body, { signal: controller.signal })
  while (
    proxy.seen.filter((r) => r.url.includes('partNumber=') && r.status !== undefined).length < 1
  )
    await new Promise((r) => setTimeout(r, 20))
  const reason = Object.assign(new Error('interrupted by SIGINT'), {
    name: 'AbortError',
    code: 'INTERRUPTED',
  })
  controller.abort(reason)
  const error = await putting.then(
    () => null,
    (e: Error & { code?: string; cause?: unknown }) => e,
  )
  // s3rver cannot abort (405): the caller gets an abort (exit 130 in the CLI), its own reason
  // as the cause, and the upload that is left open named.
  assert.ok(isAbortError(error), 'still an abort')
  assert.is(error?.cause, reason, "the caller's own reason is the cause")
  assert.is(error?.code, 'STORAGE_S3_UPLOAD_LEFT_OPEN')
  const uploadId = assertAbortedAtServer(proxy, 'fail/aborted.bin')
  assert.match(
    error!.message,
    new RegExp(
      `was stopped \\(interrupted by SIGINT\\); the multipart upload ${uploadId} could not be aborted`,
    ),
  )
  assert.ok(body.destroyed, 'the source stream is released')
  assert.is(await storage.head('fail/aborted.bin'), null)
  await storage.close?.()
  await proxy.close()
})

test('a part that cannot be sent fails the upload at once and aborts it', async () => {
  // The network drops every attempt to send part 2 (the SDK retries it 4 times).
  const proxy = await recordingProxy(s3.endpoint, {
    cut: (req) => (req.url ?? '').includes('partNumber=2'),
  })
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 1 }, proxy.endpoint),
    'offsite',
  )
  const error = await storage.put('fail/part.bin', streamOf(bytes(40 * MiB))).then(
    () => null,
    (e: Error & { code?: string }) => e,
  )
  assert.ok(error, 'put rejects')
  assert.match(error.message, /upload s3:\/\/dbops-faults\/fail\/part\.bin failed: cannot reach/)
  assertAbortedAtServer(proxy, 'fail/part.bin')
  const parts = proxy.seen
    .filter((r) => r.url.includes('partNumber='))
    .map((r) => Number(/partNumber=(\d+)/.exec(r.url)?.[1]))
  assert.ok(
    Math.max(...parts) <= 3,
    `stopped instead of sending the rest of the 8 parts (sent ${[...new Set(parts)]})`,
  )
  assert.is(await storage.head('fail/part.bin'), null)
  await storage.close?.()
  await proxy.close()
})

test('one failing upload does not disturb another running on the same destination', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 2 }, proxy.endpoint),
    'offsite',
  )
  const data = bytes(16 * MiB)
  const [failed, stored] = await Promise.allSettled([
    storage.put('both/failing.bin', failingStream(11 * MiB)),
    storage.put('both/good.bin', streamOf(data)),
  ])
  assert.is(failed.status, 'rejected')
  assert.is(stored.status, 'fulfilled')
  assert.is((stored as PromiseFulfilledResult<{ sha256: string }>).value.sha256, sha256(data))
  assertAbortedAtServer(proxy, 'both/failing.bin')
  assert.is(
    proxy.seen.filter((r) => r.method === 'DELETE' && r.url.includes('both/good.bin')).length,
    0,
    'the good upload was not aborted',
  )
  assert.is((await storage.head('both/good.bin'))?.sha256, sha256(data))
  assert.is(await storage.head('both/failing.bin'), null)
  await storage.delete('both/good.bin')
  await storage.close?.()
  await proxy.close()
})

test('a failed single-part upload starts no multipart upload and leaves nothing', async () => {
  const before = await uploadDirs('dbops-faults')
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(optionsFor(s3, { partSizeMb: 5 }, proxy.endpoint), 'offsite')
  const error = await storage.put('fail/small.bin', failingStream(1 * MiB)).then(
    () => null,
    (e: Error) => e,
  )
  assert.match(error?.message ?? '', /pg_dump exited/)
  assert.is(proxy.seen.length, 0, 'nothing was sent')
  assert.equal(await uploadDirs('dbops-faults'), before)
  await storage.close?.()
  await proxy.close()
})

test('a missing bucket is named, with what to do, for put, head, list and get', async () => {
  const storage = createS3Storage(optionsFor(s3, { bucket: 'no-such-bucket' }), 'offsite')
  const attempts = {
    put: () => storage.put('x/y', streamOf(Buffer.from('data'))),
    head: () => storage.head('x/y'),
    list: () => storage.list(''),
    get: () => storage.get('x/y'),
  }
  for (const [op, attempt] of Object.entries(attempts)) {
    const error = await attempt().then(
      () => null,
      (e: Error & { code?: string; hint?: string }) => e,
    )
    assert.ok(error, `${op} fails`)
    assert.is(error.code, 'STORAGE_S3_NO_BUCKET', op)
    assert.match(
      error.message,
      /the bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1/,
      op,
    )
    assert.match(error.hint ?? '', /storage\.offsite\.bucket/, op)
  }
  await storage.close?.()
})

test('an unreachable endpoint fails within seconds with the endpoint named', async () => {
  const port = await new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
  const storage = createS3Storage(optionsFor(s3, {}, `http://127.0.0.1:${port}`), 'offsite')
  const started = Date.now()
  const error = await storage.put('x/y', streamOf(Buffer.from('data'))).then(
    () => null,
    (e: Error & { code?: string; hint?: string }) => e,
  )
  assert.is(error?.code, 'STORAGE_S3_UNREACHABLE')
  assert.match(
    error!.message,
    new RegExp(`cannot reach http://127.0.0.1:${port} \\(ECONNREFUSED\\)`),
  )
  assert.match(error!.hint ?? '', /storage\.offsite\.endpoint/)
  assert.ok(Date.now() - started < 15_000)
  await storage.close?.()
})

test('rejected credentials: a sentence and a hint, never the key id or the secret', async () => {
  const accessKeyId = 'AKIAWRONGKEYID12345'
  const secretAccessKey = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY'
  const storage = createS3Storage(optionsFor(s3, { accessKeyId, secretAccessKey }), 'offsite')
  for (const attempt of [
    () => storage.put('x/y', streamOf(Buffer.from('data'))),
    () => storage.list(''),
  ]) {
    const error = await attempt().then(
      () => null,
      (e: Error & { code?: string; hint?: string }) => e,
    )
    assert.is(error?.code, 'STORAGE_S3_ACCESS_DENIED')
    assert.match(
      error!.message,
      /the access key id is not known to the server \(InvalidAccessKeyId\)/,
    )
    assert.match(error!.hint ?? '', /accessKeyId/)
    const printed = `${error!.message}\n${error!.hint}`
    assert.not.ok(
      printed.includes(accessKeyId) || printed.includes(secretAccessKey),
      'no credential in what is printed',
    )
  }
  await storage.close?.()
})

// The S3 answers s3rver cannot give (it has no regions or policies): the sentences are
// checked against the SDK's own exception type with the fields real S3 sends.
const call: S3Call = {
  action: 'upload',
  bucket: 'acme-backups',
  key: 'db/x',
  endpoint: undefined,
  region: 'us-east-1',
  storage: 'offsite',
  secrets: ['SECRET-VALUE-1234'],
}
const sdkError = (
  name: string,
  status: number,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
) =>
  Object.assign(
    new S3ServiceException({
      name,
      $fault: 'client',
      $metadata: { httpStatusCode: status },
      message: (extra.message as string) ?? name,
    }),
    { $response: { statusCode: status, headers, body: undefined }, ...extra },
  )

const cases: [string, unknown, string, RegExp, RegExp][] = [
  [
    'bucket in another region (PermanentRedirect)',
    sdkError('PermanentRedirect', 301, {}, { 'x-amz-bucket-region': 'eu-west-1' }),
    'STORAGE_S3_WRONG_REGION',
    /is in eu-west-1, not us-east-1/,
    /storage\.offsite\.region to 'eu-west-1'/,
  ],
  [
    'HEAD in the wrong region (bare 301)',
    sdkError('301', 301, {}, { 'x-amz-bucket-region': 'ap-south-1' }),
    'STORAGE_S3_WRONG_REGION',
    /is in ap-south-1/,
    /'ap-south-1'/,
  ],
  [
    'AuthorizationHeaderMalformed',
    sdkError('AuthorizationHeaderMalformed', 400, {
      message: "the region 'us-east-1' is wrong; expecting 'eu-central-1'",
    }),
    'STORAGE_S3_WRONG_REGION',
    /is in eu-central-1/,
    /eu-central-1/,
  ],
  [
    'policy denies',
    sdkError('AccessDenied', 403),
    'STORAGE_S3_ACCESS_DENIED',
    /access denied \(AccessDenied\)/,
    /s3:PutObject.*s3:AbortMultipartUpload.*kms/,
  ],
  [
    'wrong secret',
    sdkError('SignatureDoesNotMatch', 403),
    'STORAGE_S3_ACCESS_DENIED',
    /secret access key does not match/,
    /AWS_ACCESS_KEY_ID/,
  ],
  [
    'expired session',
    sdkError('ExpiredToken', 400),
    'STORAGE_S3_ACCESS_DENIED',
    /session token has expired/,
    /credentials/,
  ],
  [
    'no credentials anywhere',
    Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    }),
    'STORAGE_S3_NO_CREDENTIALS',
    /no AWS credentials were found/,
    /AWS_PROFILE/,
  ],
  [
    'no region anywhere',
    new Error('Region is missing'),
    'STORAGE_S3_NO_REGION',
    /no AWS region is configured/,
    /storage\.offsite\.region/,
  ],
  [
    'a region that does not exist',
    Object.assign(new Error('getaddrinfo ENOTFOUND acme-backups.s3.us-eest-1.amazonaws.com'), {
      code: 'ENOTFOUND',
    }),
    'STORAGE_S3_UNREACHABLE',
    /cannot reach the S3 endpoint of region us-east-1 \(ENOTFOUND\)/,
    /storage\.offsite\.region/,
  ],
  [
    'KMS key refused',
    sdkError('KMS.NotFoundException', 400),
    'STORAGE_S3_KMS',
    /KMS refused/,
    /kmsKeyId/,
  ],
  [
    'too many parts',
    new Error('Exceeded 10000 parts in multipart upload to Bucket: acme-backups Key: db/x.'),
    'STORAGE_S3_TOO_MANY_PARTS',
    /more than 10,000 parts/,
    /partSizeMb/,
  ],
  [
    'anything else, secrets scrubbed',
    sdkError('InternalError', 500, { message: 'boom SECRET-VALUE-1234' }),
    'STORAGE_S3_FAILED',
    /InternalError: boom \[redacted\]/,
    /Run again/,
  ],
]
for (const [name, error, code, message, hint] of cases) {
  test(`S3 error translation: ${name}`, () => {
    const translated = s3Error(error, call) as Error & { code: string; hint: string }
    assert.is(translated.code, code)
    assert.match(translated.message, message)
    assert.match(translated.hint, hint)
    assert.not.match(`${translated.message}${translated.hint}`, /SECRET-VALUE-1234/)
  })
}

test.run()
