/**
 * bench/storage-s3.ts — uploading a ~200 MB stream of unknown length (what pg_dump | zstd |
 * age produces) to S3, dbops vs what a backup script does, side by side against s3rver:
 *
 *   dbops         `@dbops/storage-s3` put(): multipart streaming (8 MiB parts, 4 at once),
 *                 sha256 on the way, no temp file.
 *   script        the usual backup script: write the dump to a temp file, read it into a
 *                 Buffer, PutObject it (aws-sdk v3), delete the temp file.
 *   script+stream the careful script: temp file, then PutObject of a file stream with its
 *                 ContentLength (flat memory, but the whole dump touches the disk first).
 *
 * Each run is its own Node process (peak RSS = its maxRSS); the sides alternate, and the
 * median of the runs is printed. The S3 server (s3rver, in this process) is the same for all.
 *
 * A third scenario uploads into an HTTP sink (answers like S3, stores nothing) to show the
 * client's own cost, since on one machine s3rver is the bottleneck.
 *
 * A second scenario paces the source like a dump being produced: the scripts can only start
 * uploading when it is complete, dbops uploads while it is produced.
 *
 *   node --import tsx bench/storage-s3.ts [--mb 200] [--runs 3] [--mbps 50]
 */
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { startS3 } from '@dbops/test-utils'
import { BUCKET, SIDES, type Measured, type Side } from './lib/storage-s3-sides.ts'
import { recordingProxy } from '@dbops/test-utils'
import { startSink } from '@dbops/test-utils'
import { median } from './lib/measure.ts'

const SIDES_FILE = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  './lib/storage-s3-sides.ts',
)

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}

function runChild(side: Side, endpoint: string, mb: number, mbps = 0): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', SIDES_FILE, side, endpoint, String(mb), String(mbps)],
      {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    let out = ''
    proc.stdout.on('data', (d) => (out += d))
    proc.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop()!))
        : reject(new Error(`${side} exited ${code}`)),
    )
  })
}

async function scenario(
  title: string,
  endpoint: string,
  mb: number,
  runs: number,
  mbps: number,
): Promise<void> {
  process.stdout.write(
    `\n${title}: ${mb} MiB, unknown length, ${runs} run(s) per side, alternating\n`,
  )
  const results: Measured[] = []
  for (let run = 0; run < runs; run++) {
    for (const side of run % 2 === 0 ? SIDES : [...SIDES].reverse())
      results.push(await runChild(side, endpoint, mb, mbps))
  }
  const rows = SIDES.map((side) => {
    const mine = results.filter((r) => r.side === side)
    return {
      side,
      ms: median(mine.map((r) => r.ms)),
      rss: median(mine.map((r) => r.rssMb)),
      cpu: median(mine.map((r) => r.cpuS)),
      temp: mine[0]!.tempFileMb,
      size: mine[0]!.size,
    }
  })
  const base = rows.find((r) => r.side === 'script')!
  process.stdout.write(
    `${'side'.padEnd(15)}${'wall (median)'.padStart(14)}${'peak RSS'.padStart(11)}${'CPU'.padStart(9)}${'temp file'.padStart(11)}   vs script (wall / RSS)\n`,
  )
  for (const r of rows) {
    process.stdout.write(
      `${r.side.padEnd(15)}${`${(r.ms / 1000).toFixed(2)} s`.padStart(14)}${`${r.rss.toFixed(0)} MB`.padStart(11)}${`${r.cpu.toFixed(2)} s`.padStart(9)}${`${r.temp.toFixed(0)} MB`.padStart(11)}   ${(r.ms / base.ms).toFixed(2)}× / ${(r.rss / base.rss).toFixed(2)}×\n`,
    )
  }
  if (new Set(rows.map((r) => r.size)).size !== 1)
    throw new Error(`the sides uploaded different sizes: ${rows.map((r) => r.size)}`)
}

/** One more dbops run through a recording proxy: how much of it is s3rver assembling the parts. */
async function assemblyShare(endpoint: string, mb: number): Promise<void> {
  const proxy = await recordingProxy(endpoint)
  const startedAt = new Map<object, number>()
  const push = proxy.seen.push.bind(proxy.seen)
  proxy.seen.push = (...items) => {
    for (const item of items) startedAt.set(item, performance.now())
    return push(...items)
  }
  const traced = await runChild('dbops', proxy.endpoint, mb)
  await proxy.close()
  const complete = proxy.seen.find((r) => r.method === 'POST' && r.url.includes('uploadId='))
  const tagging = proxy.seen.find((r) => r.url.includes('tagging'))
  if (!complete || !tagging) return
  const ms = startedAt.get(tagging)! - startedAt.get(complete)!
  process.stdout.write(
    `\nof one dbops upload (${(traced.ms / 1000).toFixed(2)} s, through a proxy), ${(ms / 1000).toFixed(2)} s was s3rver's CompleteMultipartUpload: it copies every part into one file, which S3 does not make the client wait for.\n`,
  )
}

async function main(): Promise<void> {
  const mb = arg('--mb', 200)
  const runs = arg('--runs', 3)
  const mbps = arg('--mbps', 50)
  const s3 = await startS3([BUCKET])
  try {
    await scenario('source as fast as it is read', s3.endpoint, mb, runs, 0)
    await scenario(
      `source at ${mbps} MiB/s, like pg_dump | zstd | age producing a dump`,
      s3.endpoint,
      mb,
      Math.max(1, Math.floor(runs / 2)),
      mbps,
    )
    await assemblyShare(s3.endpoint, mb)
  } finally {
    await s3.stop()
  }
  // The client's own cost: the same uploads into a server that discards the bytes.
  const sink = await startSink()
  try {
    await scenario(
      'into an HTTP sink that answers like S3 and discards the bytes (client cost only)',
      sink.endpoint,
      mb,
      runs,
      0,
    )
  } finally {
    await sink.close()
  }
  process.stdout.write(
    `\n(wall: from the first byte of the dump to the object stored, in-process; peak RSS and CPU: each side's own process, whole run)\n`,
  )
}

await main()
