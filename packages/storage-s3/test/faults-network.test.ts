import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { startS3, type TestS3 } from '@dbops/test-utils'
import { closeProxies, recordingProxy, uploadIdOf } from '@dbops/test-utils'
import { closeStorages, createS3Storage } from './tracked.ts'
import { MiB, optionsFor, stallingStream } from './streams.ts'

/**
 * A network that stops answering mid-upload (packets dropped: no reset, no answer). The
 * caller gives up (Ctrl-C, --timeout); the upload must then end within its clean-up
 * deadline, although the abort of the multipart upload cannot get through, and say which
 * upload is left open.
 */
let s3: TestS3

test.before(async () => {
  s3 = await startS3(['dbops-network'])
})
test.after(async () => {
  await closeProxies()
  await closeStorages()
  await s3.stop()
})

test('the network drops after part 1; the caller aborts: put settles within the deadline and names the upload left open', async () => {
  let dropped = false
  const proxy = await recordingProxy(s3.endpoint, {
    hold: (req) => {
      if (!dropped && !(req.url ?? '').includes('partNumber=2')) return undefined
      dropped = true
      return 'forever'
    },
  })
  const storage = createS3Storage(
    optionsFor(s3, { partSizeMb: 5, queueSize: 1 }, proxy.endpoint),
    'offsite',
  )
  const controller = new AbortController()
  const putting = storage
    .put('drop/object.bin', stallingStream(30 * MiB), { signal: controller.signal })
    .then(
      () => null,
      (e: Error & { code?: string; hint?: string }) => e,
    )
  while (!dropped) await new Promise((r) => setTimeout(r, 20))
  const reason = Object.assign(new Error('the run exceeded --timeout'), {
    name: 'AbortError',
    code: 'TIMEOUT',
  })
  const abortedAt = Date.now()
  controller.abort(reason)
  // The clean-up has a 10 s deadline per step; the bound is generous for a loaded machine.
  const error = await Promise.race([
    putting,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref()),
  ])
  if (error === 'hung')
    return assert.unreachable(`put had not settled ${Date.now() - abortedAt} ms after the abort`)
  assert.ok(error, 'put rejects')
  const uploadId = uploadIdOf(proxy.withQuery('uploads')[0])
  assert.ok(uploadId)
  // the abort was tried (it reached the network) and the error says it did not get through
  assert.ok(
    proxy.seen.some((r) => r.method === 'DELETE' && r.url.includes(`uploadId=${uploadId}`)),
    'no AbortMultipartUpload was sent',
  )
  assert.is(error!.code, 'STORAGE_S3_UPLOAD_LEFT_OPEN', error!.message)
  assert.match(error!.message, new RegExp(`the multipart upload ${uploadId} could not be aborted`))
  assert.match(error!.hint ?? '', /abort-multipart-upload .*--upload-id/)
  await proxy.close()
})

test.run()
