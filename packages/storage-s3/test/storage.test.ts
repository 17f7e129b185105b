import { test } from 'uvu'
import * as assert from 'uvu/assert'
import {
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3'
import { startS3, type TestS3 } from '@dbops/test-utils'
import { closeStorages, createS3Storage } from './tracked.ts'
import { closeProxies, recordingProxy } from '@dbops/test-utils'
import { bytes, MiB, optionsFor, readAll, sha256, streamOf } from './streams.ts'

let s3: TestS3
let raw: S3Client

test.before(async () => {
  s3 = await startS3(['dbops-storage'])
  raw = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  })
})
test.after(async () => {
  await closeProxies()
  await closeStorages()
  raw.destroy()
  await s3.stop()
})

test('a small object round-trips: put returns its sha256, head and get agree, delete removes it', async () => {
  const storage = createS3Storage(optionsFor(s3, { prefix: 'db-backups' }), 'offsite')
  const data = bytes(300 * 1024)
  const put = await storage.put('app/2026-01-01/dump.bin', streamOf(data), {
    metadata: { database: 'app' },
  })
  assert.equal(put, { key: 'app/2026-01-01/dump.bin', size: data.length, sha256: sha256(data) })

  const head = await storage.head('app/2026-01-01/dump.bin')
  assert.ok(head)
  assert.is(head.size, data.length)
  assert.is(head.sha256, sha256(data), 'the sha256 is stored with the object')
  assert.equal(head.metadata, { database: 'app' })
  assert.ok(Date.now() - head.modifiedAt.getTime() < 60_000)

  const read = await readAll(await storage.get('app/2026-01-01/dump.bin'))
  assert.is(sha256(read), sha256(data))

  // The prefix is where the objects really are.
  const listed = await raw.send(
    new ListObjectsV2Command({ Bucket: 'dbops-storage', Prefix: 'db-backups/' }),
  )
  assert.equal(
    listed.Contents?.map((c) => c.Key),
    ['db-backups/app/2026-01-01/dump.bin'],
  )

  await storage.delete('app/2026-01-01/dump.bin')
  assert.is(await storage.head('app/2026-01-01/dump.bin'), null)
  await storage.delete('app/2026-01-01/dump.bin') // deleting what is gone is not an error
  assert.is(storage.location, `s3://dbops-storage/db-backups/ at ${s3.endpoint}`)
  await storage.close?.()
})

test('an empty stream is stored as an empty object', async () => {
  const storage = createS3Storage(optionsFor(s3), 'offsite')
  const put = await storage.put('empty/object', streamOf(Buffer.alloc(0)))
  assert.is(put.size, 0)
  assert.is(put.sha256, sha256(Buffer.alloc(0)))
  assert.is((await readAll(await storage.get('empty/object'))).length, 0)
  await storage.delete('empty/object')
  await storage.close?.()
})

test('list pages through every object under a prefix and returns keys relative to the destination', async () => {
  const storage = createS3Storage(optionsFor(s3, { prefix: 'paged/' }), 'offsite', {
    listPageSize: 2,
  })
  const keys = ['db/1/a', 'db/1/manifest.json', 'db/2/a', 'db/2/manifest.json', 'db/3/a', 'other/x']
  for (const key of keys) await storage.put(key, streamOf(Buffer.from(key)))
  const all = await storage.list('')
  assert.equal(
    all.map((o) => o.key),
    keys,
  )
  assert.equal(
    all.map((o) => o.size),
    keys.map((k) => k.length),
  )
  const db = await storage.list('db/')
  assert.equal(
    db.map((o) => o.key),
    keys.slice(0, 5),
  )
  assert.equal(await storage.list('nothing-here/'), [])
  for (const key of keys) await storage.delete(key)
  assert.equal(await storage.list(''), [])
  await storage.close?.()
})

test('a stream longer than one part goes up as a 3-part multipart upload with the full sha256 tagged', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 2 }, proxy.endpoint),
    'offsite',
  )
  const data = bytes(12 * MiB + 123)
  const put = await storage.put('big/dump.bin', streamOf(data))
  assert.is(put.size, data.length)
  assert.is(put.sha256, sha256(data))

  const parts = proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='))
  assert.is(parts.length, 3, 'three parts for 12 MiB at 5 MiB a part')
  assert.ok(
    parts.every((p) => p.headers['x-amz-checksum-sha256']),
    'each part carries its SHA256 checksum',
  )
  assert.is(proxy.withQuery('uploads').length, 1, 'one CreateMultipartUpload')
  assert.is(
    proxy.seen.filter((r) => r.method === 'POST' && r.url.includes('uploadId=')).length,
    1,
    'one CompleteMultipartUpload',
  )

  const tags = await raw.send(
    new GetObjectTaggingCommand({ Bucket: 'dbops-storage', Key: 'big/dump.bin' }),
  )
  assert.equal(tags.TagSet, [{ Key: 'sha256', Value: sha256(data) }])
  const head = await storage.head('big/dump.bin')
  assert.is(head?.size, data.length)
  assert.is(head?.sha256, sha256(data), 'head reports the tagged sha256 of a multipart object')

  const read = await readAll(await storage.get('big/dump.bin'))
  assert.is(read.length, data.length)
  assert.is(sha256(read), sha256(data))
  await storage.delete('big/dump.bin')
  await storage.close?.()
  await proxy.close()
})

test('storage class and server-side encryption reach the server on single and multipart uploads', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const storage = createS3Storage(
    optionsFor(
      s3,
      {
        storageClass: 'STANDARD_IA',
        serverSideEncryption: 'aws:kms',
        kmsKeyId: 'arn:aws:kms:us-east-1:111122223333:key/test',
        partSizeMb: 5,
      },
      proxy.endpoint,
    ),
    'offsite',
  )
  await storage.put('sse/small', streamOf(bytes(1000)))
  await storage.put('sse/large', streamOf(bytes(6 * MiB)))
  const writes = [
    proxy.seen.find((r) => r.method === 'PUT' && r.url.includes('/sse/small')),
    proxy.withQuery('uploads')[0],
  ]
  for (const request of writes) {
    assert.ok(request, 'the write was seen')
    assert.is(request.headers['x-amz-storage-class'], 'STANDARD_IA')
    assert.is(request.headers['x-amz-server-side-encryption'], 'aws:kms')
    assert.is(
      request.headers['x-amz-server-side-encryption-aws-kms-key-id'],
      'arn:aws:kms:us-east-1:111122223333:key/test',
    )
  }
  await storage.delete('sse/small')
  await storage.delete('sse/large')
  await storage.close?.()
  await proxy.close()
})

test('credentials: explicit ones with a session token, or the standard AWS chain when the config has none', async () => {
  const proxy = await recordingProxy(s3.endpoint)
  const explicit = createS3Storage(
    optionsFor(s3, { sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLETOKEN' }, proxy.endpoint),
    'offsite',
  )
  await explicit.put('creds/explicit', streamOf(Buffer.from('x')))
  const sent = proxy.seen.find((r) => r.method === 'PUT')!
  assert.is(sent.headers['x-amz-security-token'], 'IQoJb3JpZ2luX2VjEXAMPLETOKEN')
  assert.match(String(sent.headers.authorization), /Credential=S3RVER\//)

  // No credentials in the config: the SDK's chain finds them in the environment.
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY }
  process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId
  process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey
  try {
    const options = optionsFor(s3, {}, proxy.endpoint)
    const fromChain = createS3Storage(
      { ...options, accessKeyId: undefined, secretAccessKey: undefined },
      'offsite',
    )
    proxy.seen.length = 0
    await fromChain.put('creds/chain', streamOf(Buffer.from('y')))
    assert.match(String(proxy.seen[0]?.headers.authorization), /Credential=S3RVER\//)
    assert.is(proxy.seen[0]?.headers['x-amz-security-token'], undefined)
    await fromChain.delete('creds/chain')
  } finally {
    process.env.AWS_ACCESS_KEY_ID = saved.id
    process.env.AWS_SECRET_ACCESS_KEY = saved.secret
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID
    if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY
  }
  await explicit.delete('creds/explicit')
  await proxy.close()
})

test('get fails, instead of ending quietly, when the stored bytes do not match the stored sha256', async () => {
  const storage = createS3Storage(optionsFor(s3), 'offsite')
  const data = bytes(200_000)
  const put = await storage.put('damaged/dump.bin', streamOf(data))
  // Someone (or bit rot) replaces the bytes but not the checksum.
  const flipped = Buffer.from(data)
  flipped[1000] = flipped[1000]! ^ 0xff
  await raw.send(
    new PutObjectCommand({
      Bucket: 'dbops-storage',
      Key: 'damaged/dump.bin',
      Body: flipped,
      Metadata: { sha256: put.sha256 },
    }),
  )
  const error = await readAll(await storage.get('damaged/dump.bin')).then(
    () => null,
    (e: Error) => e,
  )
  assert.ok(error, 'reading a damaged object fails')
  assert.is((error as { code?: string }).code, 'STORAGE_CHECKSUM_MISMATCH')
  assert.match(error.message, /damaged\/dump\.bin/)
  await storage.delete('damaged/dump.bin')
  await storage.close?.()
})

test('a 40 MiB object in 8 parts, 4 at a time, reads back identical; a wrong sha256 tag fails the read', async () => {
  const storage = createS3Storage(optionsFor(s3, { partSizeMb: 5, queueSize: 4 }), 'offsite')
  const data = bytes(40 * MiB + 7)
  const put = await storage.put('large/dump.bin', streamOf(data, 1024 * 1024 + 3))
  assert.is(put.size, data.length)
  assert.is(put.sha256, sha256(data))
  const read = await readAll(await storage.get('large/dump.bin'))
  assert.ok(read.equals(data), 'the same bytes, in order')

  await raw.send(
    new PutObjectTaggingCommand({
      Bucket: 'dbops-storage',
      Key: 'large/dump.bin',
      Tagging: { TagSet: [{ Key: 'sha256', Value: sha256(Buffer.from('other')) }] },
    }),
  )
  const error = await readAll(await storage.get('large/dump.bin')).then(
    () => null,
    (e: { code?: string }) => e,
  )
  assert.is(error?.code, 'STORAGE_CHECKSUM_MISMATCH')
  await storage.delete('large/dump.bin')
  await storage.close?.()
})

test('a connection lost in the middle of a download fails the read with a sentence, not a short object', async () => {
  const writer = createS3Storage(optionsFor(s3), 'offsite')
  await writer.put('cut/dump.bin', streamOf(bytes(6 * MiB)))
  const proxy = await recordingProxy(s3.endpoint, {
    cutAnswerAfter: (req) =>
      req.method === 'GET' &&
      (req.url ?? '').includes('/cut/dump.bin') &&
      !(req.url ?? '').includes('tagging')
        ? 2 * MiB
        : undefined,
  })
  const reader = createS3Storage(optionsFor(s3, {}, proxy.endpoint), 'offsite')
  const error = await readAll(await reader.get('cut/dump.bin')).then(
    () => null,
    (e: Error & { code?: string }) => e,
  )
  assert.ok(error, 'the read fails')
  assert.is(error.code, 'STORAGE_S3_READ_FAILED')
  assert.match(
    error.message,
    /reading "cut\/dump\.bin" from s3:\/\/dbops-storage\/ at http:\/\/127\.0\.0\.1:\d+ failed after \d+ of 6291456 bytes/,
  )
  await writer.delete('cut/dump.bin')
})

test('get of a missing object says so; keys that climb out of the prefix are refused', async () => {
  const storage = createS3Storage(optionsFor(s3, { prefix: 'p/' }), 'offsite')
  const missing = await storage.get('no/such/key').then(
    () => null,
    (e: { code?: string; message: string }) => e,
  )
  assert.is(missing?.code, 'STORAGE_NOT_FOUND')
  assert.match(missing!.message, /no object "no\/such\/key" in s3:\/\/dbops-storage\/p\//)
  assert.is(await storage.head('no/such/key'), null)
  for (const key of ['', '/abs', 'a/../../b']) {
    const error = await storage.put(key, streamOf(Buffer.from('x'))).then(
      () => null,
      (e: { code?: string }) => e,
    )
    assert.is(error?.code, 'STORAGE_KEY_INVALID', `key ${JSON.stringify(key)}`)
  }
  await storage.close?.()
})

test('get streams: aborting the signal stops the download', async () => {
  const storage = createS3Storage(optionsFor(s3), 'offsite')
  await storage.put('abort-get/dump.bin', streamOf(bytes(8 * MiB)))
  const controller = new AbortController()
  const stream = await storage.get('abort-get/dump.bin', { signal: controller.signal })
  let received = 0
  const error = await (async () => {
    for await (const chunk of stream) {
      received += (chunk as Buffer).length
      if (received > 1 * MiB) controller.abort()
    }
  })().then(
    () => null,
    (e: Error) => e,
  )
  assert.ok(error, 'the read fails once aborted')
  assert.is(error.name, 'AbortError')
  assert.ok(received < 8 * MiB, `stopped early (${received} bytes)`)
  await storage.delete('abort-get/dump.bin')
  await storage.close?.()
})

test.run()
