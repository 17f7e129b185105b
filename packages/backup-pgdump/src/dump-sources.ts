import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { DbopsError, type Context, type Db } from 'dbops/plugin'
import type { ToolVersion } from './binaries.ts'
import { childOutput, pipeChildren, spawnChild, type Child } from './subprocess.ts'
import { zstdArgs, type Algorithm } from './compression.ts'
import type { PgdumpOptions } from './options.ts'

/** What a source needs to know of the dump it feeds. */
export interface SourceJob {
  database: string
  algorithm: Algorithm
}

export function pgDumpArgs(
  options: PgdumpOptions,
  algorithm: Algorithm,
  snapshot: string | undefined,
): string[] {
  const args = [`--format=${options.format}`, '--no-password']
  if (snapshot) args.push(`--snapshot=${snapshot}`)
  // dbops compresses the stream itself (zstd is several times faster than pg_dump's zlib).
  if (options.format !== 'plain' && algorithm !== 'none') args.push('--compress=0')
  if (options.format === 'directory' && options.jobs > 1) args.push(`--jobs=${options.jobs}`)
  if (options.lockWaitTimeoutSec > 0)
    args.push(`--lock-wait-timeout=${options.lockWaitTimeoutSec}s`)
  if (options.noOwner) args.push('--no-owner')
  if (options.noPrivileges) args.push('--no-privileges')
  for (const s of options.schemas) args.push(`--schema=${s}`)
  for (const s of options.excludeSchemas) args.push(`--exclude-schema=${s}`)
  for (const t of options.tables) args.push(`--table=${t}`)
  for (const t of options.excludeTables) args.push(`--exclude-table=${t}`)
  for (const t of options.excludeTableData) args.push(`--exclude-table-data=${t}`)
  return [...args, ...options.extraArgs]
}

/** The snapshot pg_dump imports, and the libpq options its session needs to keep up with it. */
export interface DumpSession {
  snapshot: string
  /** PGOPTIONS for pg_dump: set when the role or database has a statement_timeout. */
  pgOptions?: string
}

/**
 * A role's statement_timeout would apply to pg_dump's first queries (it turns the timeout off
 * itself only after them). Passed only when one is set: a pooler such as PgBouncer refuses
 * startup options it does not know.
 */
export const NO_TIMEOUTS_PGOPTIONS =
  '-c statement_timeout=0 -c idle_in_transaction_session_timeout=0'

export const explainPgDump =
  (database: string) => (stderr: string, code: number | null, signal: NodeJS.Signals | null) => {
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
    const last = stderr.split('\n').filter(Boolean).slice(-3).join(' / ')
    if (/could not import the requested snapshot|invalid snapshot identifier/i.test(stderr)) {
      return new DbopsError(
        'PGDUMP_SNAPSHOT_LOST',
        `pg_dump of ${database} ${how}: the snapshot dbops exported for it was gone before pg_dump could import it (${last})`,
        {
          hint: 'The transaction holding the snapshot ended early: a session timeout forced on the role or database (statement_timeout, idle_in_transaction_session_timeout) by a pooler or proxy, or the session was terminated (pg_terminate_backend, a restart). Nothing was stored; run the backup again once that is fixed.',
        },
      )
    }
    const lost =
      /server closed the connection|terminating connection|connection to server .* failed|could not receive data/i.test(
        stderr,
      )
    return new DbopsError(
      lost ? 'PGDUMP_CONNECTION_LOST' : 'PGDUMP_FAILED',
      `pg_dump of ${database} ${how}${last ? `: ${last}` : ''}`,
      {
        hint: lost
          ? 'The database server went away during the dump; nothing was stored. Run the backup again once it is back.'
          : 'Nothing was stored; earlier backups are untouched.',
      },
    )
  }

/** A tool's output, already zstd-compressed when the tool was piped straight into zstd. */
export interface Source {
  stream: Readable
  compressed: boolean
}

/**
 * With zstd, the tool's stdout goes straight into zstd through an OS pipe: the uncompressed
 * dump never passes through Node, which on a small machine leaves the cores to postgres,
 * pg_dump and zstd. Otherwise Node reads it and compresses (gzip) or passes it on.
 */
function sourceOf(ctx: Context, options: PgdumpOptions, job: SourceJob, tool: Child): Source {
  if (job.algorithm !== 'zstd' || options.format === 'plain')
    return { stream: childOutput(tool), compressed: false }
  const zstd = (stdin: Readable) =>
    spawnChild(
      'zstd',
      zstdArgs(options.compressionLevel, options.compressionThreads),
      [stdin, 'pipe'],
      { signal: ctx.signal },
    )
  return { stream: pipeChildren(tool, zstd), compressed: true }
}

const childEnv = (db: Db, pgOptions: string | undefined) => ({
  ...db.libpqEnv(),
  ...(pgOptions ? { PGOPTIONS: pgOptions } : {}),
})

export async function pgDumpSource(
  ctx: Context,
  options: PgdumpOptions,
  pgDump: ToolVersion,
  db: Db,
  session: DumpSession,
  job: SourceJob,
  secrets: string[],
): Promise<Source> {
  const env = childEnv(db, session.pgOptions)
  const args = pgDumpArgs(options, job.algorithm, session.snapshot)
  if (options.format !== 'directory') {
    return sourceOf(
      ctx,
      options,
      job,
      spawnChild(pgDump.path, args, ['ignore', 'pipe'], {
        env,
        signal: ctx.signal,
        secrets,
        explain: explainPgDump(job.database),
      }),
    )
  }
  // pg_dump writes the directory format (in parallel) only to a directory: dump there, then
  // stream it as one tar through the same pipeline, and remove it.
  const base = options.scratchDir ? path.resolve(ctx.config.dir, options.scratchDir) : os.tmpdir()
  const scratch = await mkdtemp(path.join(base, 'dbops-dump-'))
  const dir = path.join(scratch, 'dump')
  try {
    await spawnChild(pgDump.path, [...args, `--file=${dir}`], ['ignore', 'ignore'], {
      env,
      signal: ctx.signal,
      secrets,
      explain: explainPgDump(job.database),
    }).done
    if (!existsSync(path.join(dir, 'toc.dat')))
      throw new DbopsError('DUMP_OUTPUT_INVALID', `pg_dump wrote no toc.dat in ${dir}`)
  } catch (error) {
    await rm(scratch, { recursive: true, force: true })
    throw error
  }
  const source = sourceOf(
    ctx,
    options,
    job,
    spawnChild('tar', ['-C', dir, '-cf', '-', '.'], ['ignore', 'pipe'], { signal: ctx.signal }),
  )
  source.stream.once('close', () => void rm(scratch, { recursive: true, force: true }))
  return source
}

export async function pgDumpAllSource(
  ctx: Context,
  options: PgdumpOptions,
  tool: ToolVersion,
  db: Db,
  database: string,
  secrets: string[],
  pgOptions?: string,
): Promise<Source> {
  const args = ['--globals-only', '--no-password', `--database=${database}`]
  if (options.noRolePasswords) args.push('--no-role-passwords')
  return {
    stream: childOutput(
      spawnChild(tool.path, args, ['ignore', 'pipe'], {
        env: childEnv(db, pgOptions),
        signal: ctx.signal,
        secrets,
        explain: explainPgDump(`globals (pg_dumpall)`),
      }),
    ),
    compressed: false,
  }
}
