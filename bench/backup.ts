/**
 * bench/backup.ts — a logical backup of a few hundred MB (pgbench -i -s 15 plus text rows),
 * dbops against what users run today, side by side in one run, alternating, median of N:
 *
 *   dbops             `dbops run dump`: pg_dump -Fc -Z0 | zstd -T0 -3 | age -> local dir,
 *                     sha256 on the way, manifest written last (the whole CLI process)
 *   pg_dump -Fc       `pg_dump -Fc -f file` (pg_dump's own zlib; the issue's baseline)
 *   pg_dump | gzip    `pg_dump -Fc | gzip > file` (what pg_back-style scripts do)
 *   floor             `pg_dump -Fc -Z0 > /dev/null`: dumping without compressing or storing
 *
 *   restore: `dbops backups restore <id> --target-db x --create` (storage -> age -> zstd ->
 *   pg_restore) against `pg_restore -d x file` of the pg_dump -Fc file.
 *
 * Wall time and peak RSS come from GNU time (`%e`, `%M`: the largest process of the side,
 * which for dbops is its Node process). Figures: median of --runs (default 5) for dumps,
 * --restore-runs (default 3) for restores. JSON goes to .tmp/bench/backup.json.
 *
 *   node --import tsx bench/backup.ts [--scale 15] [--text-rows 500000] [--runs 5] [--restore-runs 3]
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'
import { makeWorkdir, REPO_ROOT, DBOPS_BIN, startCluster } from '@dbops/test-utils'
import { median } from './lib/measure.ts'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i > 0 ? Number(process.argv[i + 1]) : fallback
}
const scale = arg('--scale', 15)
const textRows = arg('--text-rows', 500_000)
const runs = arg('--runs', 5)
const restoreRuns = arg('--restore-runs', 3)

interface Sample {
  side: string
  seconds: number
  rssMb: number
  bytes?: number
}

/** Runs a command under GNU time; returns wall seconds and the peak RSS of its largest process. */
function timed(side: string, cmd: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-f', 'BENCH %e %M', ...cmd], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let err = ''
    child.stderr.on('data', (d) => (err += d))
    child.on('close', (code) => {
      const m = /BENCH ([\d.]+) (\d+)/.exec(err)
      if (code !== 0 || !m)
        return reject(new Error(`${side} failed (${code}): ${err.slice(-2000)}`))
      resolve({ side, seconds: Number(m[1]), rssMb: Number(m[2]) / 1024 })
    })
  })
}

const sizeOfDir = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (n, e) =>
      n +
      (e.isDirectory() ? sizeOfDir(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).size),
    0,
  )

async function main(): Promise<void> {
  const cluster = await startCluster()
  const work = await makeWorkdir()
  try {
    const bin = (tool: string) => path.join(cluster.binDir, tool)
    const url = cluster.url('bench')
    const admin = new pg.Client({ connectionString: cluster.url('postgres') })
    await admin.connect()
    admin.on('error', () => {}) // the cluster stops at the end whatever happened
    await admin.query('create database bench')
    process.stdout.write(`generating: pgbench -i -s ${scale} plus ${textRows} text rows ...\n`)
    execFileSync(bin('pgbench'), ['-i', '-q', '-s', String(scale), url], { stdio: 'ignore' })
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(
      `create table docs as select g as id, md5(g::text) || ' ' || repeat(md5((g * 7)::text), 3) as body, now() - g * interval '1 minute' as at from generate_series(1, ${textRows}) g`,
    )
    await db.query('analyze')
    const dbBytes = Number((await db.query(`select pg_database_size('bench') as n`)).rows[0].n)
    await db.end()
    process.stdout.write(`database: ${(dbBytes / 1e6).toFixed(0)} MB on disk\n`)

    execFileSync('age-keygen', ['-o', path.join(work.dir, 'key.txt')], { stdio: 'ignore' })
    const recipient = execFileSync('age-keygen', ['-y', path.join(work.dir, 'key.txt')], {
      encoding: 'utf8',
    }).trim()
    await work.write(
      'dbops.config.ts',
      `import { defineConfig } from 'dbops'
import pgdump from '@dbops/backup-pgdump'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  storage: { local: { dir: './backups' } },
  plugins: [pgdump({ format: 'custom', compression: 'zstd', encryption: { recipients: ['${recipient}'] } })],
  pipelines: { dump: ['pgdump:dump'] },
})
`,
    )
    const libpq = {
      ...process.env,
      PGHOST: cluster.host,
      PGPORT: String(cluster.port),
      PGUSER: 'postgres',
      PGDATABASE: 'bench',
    }
    const cliEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CI: '1',
      NO_COLOR: '1',
      DATABASE_URL: url,
      DBOPS_AGE_IDENTITY_FILE: path.join(work.dir, 'key.txt'),
    }
    const out = path.join(work.dir, 'out')
    mkdirSync(out)
    const backups = path.join(work.dir, 'backups')
    const dumpSides: Record<string, () => Promise<Sample>> = {
      dbops: async () => {
        rmSync(backups, { recursive: true, force: true })
        const s = await timed('dbops', [process.execPath, DBOPS_BIN, 'run', 'dump'], {
          ...cliEnv,
          cwd: work.dir,
        } as NodeJS.ProcessEnv)
        return { ...s, bytes: sizeOfDir(backups) }
      },
      'pg_dump -Fc': async () => ({
        ...(await timed(
          'pg_dump -Fc',
          [bin('pg_dump'), '-Fc', '-f', path.join(out, 'fc.dump')],
          libpq,
        )),
        bytes: statSync(path.join(out, 'fc.dump')).size,
      }),
      'pg_dump | gzip': async () => ({
        ...(await timed(
          'pg_dump | gzip',
          ['sh', '-c', `"${bin('pg_dump')}" -Fc | gzip > "${path.join(out, 'fc.dump.gz')}"`],
          libpq,
        )),
        bytes: statSync(path.join(out, 'fc.dump.gz')).size,
      }),
      'floor (-Z0 > /dev/null)': () =>
        timed(
          'floor (-Z0 > /dev/null)',
          ['sh', '-c', `"${bin('pg_dump')}" -Fc -Z0 > /dev/null`],
          libpq,
        ),
    }
    // dbops runs from its work dir (GNU time inherits the cwd of spawn)
    const names = Object.keys(dumpSides)
    const samples: Sample[] = []
    process.stdout.write(`dumping: ${runs} runs per side, alternating order\n`)
    for (let run = 0; run < runs; run++) {
      for (const name of run % 2 === 0 ? names : [...names].reverse()) {
        const s =
          name === 'dbops' ? await inDir(work.dir, dumpSides[name]!) : await dumpSides[name]!()
        samples.push(s)
        process.stdout.write(
          `  ${name.padEnd(24)} ${s.seconds.toFixed(2)} s  ${s.rssMb.toFixed(0)} MB RSS\n`,
        )
      }
    }

    // Restores: the last dbops set vs pg_restore of the last pg_dump -Fc file, each into a fresh database.
    const setId = readdirSync(path.join(backups, 'bench'))[0]!
    const restoreSamples: Sample[] = []
    process.stdout.write(`restoring: ${restoreRuns} runs per side\n`)
    for (let run = 0; run < restoreRuns; run++) {
      for (const side of run % 2 === 0
        ? ['dbops restore', 'pg_restore']
        : ['pg_restore', 'dbops restore']) {
        await admin.query('drop database if exists bench_restore with (force)')
        let s: Sample
        if (side === 'pg_restore') {
          await admin.query('create database bench_restore template template0')
          s = await timed(
            side,
            [
              bin('pg_restore'),
              '--exit-on-error',
              '-d',
              'bench_restore',
              path.join(out, 'fc.dump'),
            ],
            libpq,
          )
        } else {
          s = await inDir(work.dir, () =>
            timed(
              side,
              [
                process.execPath,
                DBOPS_BIN,
                'backups',
                'restore',
                setId,
                '--target-db',
                'bench_restore',
                '--create',
              ],
              cliEnv as NodeJS.ProcessEnv,
            ),
          )
        }
        restoreSamples.push(s)
        process.stdout.write(
          `  ${side.padEnd(24)} ${s.seconds.toFixed(2)} s  ${s.rssMb.toFixed(0)} MB RSS\n`,
        )
      }
    }
    await admin.query('drop database if exists bench_restore with (force)')
    await admin.end()

    const summarize = (all: Sample[], side: string) => {
      const mine = all.filter((s) => s.side === side)
      return {
        side,
        seconds: median(mine.map((s) => s.seconds)),
        peakRssMb: Math.max(...mine.map((s) => s.rssMb)),
        bytes: mine.at(-1)!.bytes,
      }
    }
    const dumps = names.map((n) => summarize(samples, n))
    const restores = ['dbops restore', 'pg_restore'].map((n) => summarize(restoreSamples, n))
    const by = (name: string) => dumps.find((d) => d.side === name)!
    const ratios = {
      dbopsVsPgDumpFc: by('dbops').seconds / by('pg_dump -Fc').seconds,
      dbopsVsFloor: by('dbops').seconds / by('floor (-Z0 > /dev/null)').seconds,
      sizeVsPgDumpFc: by('dbops').bytes! / by('pg_dump -Fc').bytes!,
      restoreVsPgRestore: restores[0]!.seconds / restores[1]!.seconds,
    }
    process.stdout.write(
      `\nbackup of a ${(dbBytes / 1e6).toFixed(0)} MB database (pgbench scale ${scale} + ${textRows} text rows), median of ${runs}\n`,
    )
    process.stdout.write(
      `${'side'.padEnd(26)}${'wall'.padStart(9)}${'peak RSS'.padStart(11)}${'output'.padStart(11)}\n`,
    )
    for (const d of [...dumps, ...restores]) {
      process.stdout.write(
        `${d.side.padEnd(26)}${(`${d.seconds.toFixed(2)} s`).padStart(9)}${(`${d.peakRssMb.toFixed(0)} MB`).padStart(11)}${(d.bytes ? `${(d.bytes / 1e6).toFixed(1)} MB` : '-').padStart(11)}\n`,
      )
    }
    process.stdout.write(
      `\ndbops / pg_dump -Fc wall: ${ratios.dbopsVsPgDumpFc.toFixed(2)} (target <= 0.8)   dbops / floor: ${ratios.dbopsVsFloor.toFixed(2)} (target <= 1.3)\n` +
        `dbops output / pg_dump -Fc output: ${ratios.sizeVsPgDumpFc.toFixed(2)} (target <= 1)   dbops restore / pg_restore: ${ratios.restoreVsPgRestore.toFixed(2)} (target <= 1.15)\n` +
        `dbops peak RSS: ${by('dbops').peakRssMb.toFixed(0)} MB (target <= 200)\n`,
    )
    const jsonDir = path.join(REPO_ROOT, '.tmp', 'bench')
    mkdirSync(jsonDir, { recursive: true })
    const file = path.join(jsonDir, `backup-scale${scale}.json`)
    writeFileSync(
      file,
      JSON.stringify(
        {
          scale,
          textRows,
          dbBytes,
          runs,
          restoreRuns,
          dumps,
          restores,
          ratios,
          samples,
          restoreSamples,
        },
        null,
        2,
      ),
    )
    process.stdout.write(`JSON: ${path.relative(REPO_ROOT, file)}\n`)
  } finally {
    await work.remove()
    await cluster.stop()
  }
}

/** Runs `fn` with the process cwd set to `dir` (spawned children inherit it). */
async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const before = process.cwd()
  process.chdir(dir)
  try {
    return await fn()
  } finally {
    process.chdir(before)
  }
}

await main()
