/**
 * The sides of bench/storage-s3.ts, each run in its own process so that its peak RSS is its
 * own. Lives in the package because the baselines need the package's @aws-sdk dependency.
 *
 *   node --import tsx bench/lib/storage-s3-sides.ts <side> <endpoint> <mb> [<MiB/s>]
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { createS3Storage, s3OptionsSchema, type S3Options } from '@dbops/storage-s3'

export const SIDES = ['dbops', 'script', 'script+stream'] as const
export type Side = (typeof SIDES)[number]
export const BUCKET = 'dbops-bench'

/**
 * ~`mb` MiB in 1 MiB chunks of incompressible bytes (a random block, stamped with its index),
 * as fast as it is read, or at `mbps` MiB/s like a dump being produced.
 */
function dumpStream(mb: number, mbps = 0): Readable {
  const block = randomBytes(1024 * 1024)
  const started = performance.now()
  let i = 0
  return new Readable({
    read() {
      if (i === mb) return void this.push(null)
      const chunk = Buffer.from(block)
      chunk.writeUInt32BE(i++, 0)
      const due = mbps > 0 ? started + (i * 1000) / mbps - performance.now() : 0
      if (due > 1) setTimeout(() => this.push(chunk), due)
      else this.push(chunk)
    },
  })
}

export interface Measured {
  side: Side
  ms: number
  rssMb: number
  size: number
  tempFileMb: number
  cpuS: number
}

export async function child(side: Side, endpoint: string, mb: number, mbps: number): Promise<void> {
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }
  const key = `bench/${side}-${process.pid}.bin`
  const started = performance.now()
  let size = 0
  let tempFileMb = 0
  if (side === 'dbops') {
    const options = s3OptionsSchema.parse({
      bucket: BUCKET,
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      ...credentials,
    }) as S3Options
    const storage = createS3Storage(options, 'bench')
    size = (await storage.put(key, dumpStream(mb, mbps))).size
    await storage.close?.()
  } else {
    const client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials,
    })
    const temp = path.join(os.tmpdir(), `dbops-bench-${process.pid}.dump`)
    const hash = createHash('sha256')
    const source = dumpStream(mb, mbps)
    source.on('data', (chunk: Buffer) => hash.update(chunk))
    await pipeline(source, createWriteStream(temp))
    tempFileMb = (await stat(temp)).size / 2 ** 20
    if (side === 'script') {
      const body = await readFile(temp)
      size = body.length
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: body,
          Metadata: { sha256: hash.digest('hex') },
        }),
      )
    } else {
      size = (await stat(temp)).size
      await client.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: createReadStream(temp),
          ContentLength: size,
          Metadata: { sha256: hash.digest('hex') },
        }),
      )
    }
    await rm(temp, { force: true })
    client.destroy()
  }
  const ms = performance.now() - started
  const cleanup = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials })
  await cleanup.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }))
  cleanup.destroy()
  const cpu = process.cpuUsage()
  const result: Measured = {
    side,
    ms,
    rssMb: process.resourceUsage().maxRSS / 1024,
    size,
    tempFileMb,
    cpuS: (cpu.user + cpu.system) / 1e6,
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  await child(
    process.argv[2] as Side,
    process.argv[3]!,
    Number(process.argv[4] ?? 200),
    Number(process.argv[5] ?? 0),
  )
}
