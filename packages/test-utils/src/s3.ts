import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import S3rver from 's3rver'

/**
 * A real S3-compatible HTTP server (s3rver) on 127.0.0.1 with a temp directory. Use
 * `forcePathStyle: true`, region `us-east-1` and the credentials below. s3rver does not
 * verify signatures, so tests of credentials cannot rely on it rejecting a wrong secret.
 */
export interface TestS3 {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  region: string
  /** Buckets created at start. */
  buckets: string[]
  dir: string
  stop(): Promise<void>
}

export async function startS3(buckets: string[] = ['dbops-test']): Promise<TestS3> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dbops-s3-'))
  const server = new S3rver({
    port: 0,
    address: '127.0.0.1',
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  })
  const address = (await server.run()) as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    buckets,
    dir,
    stop: async () => {
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
