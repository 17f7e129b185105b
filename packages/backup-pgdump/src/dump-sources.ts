import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { DbopsError } from 'dbops/plugin'
import type { ToolVersion } from './binaries.ts'
import { type Algorithm, zstdArgs } from './compression.ts'
import type { PgdumpOptions } from './options.ts'
import { runTool, type Tool, pipeTools, toolOutput } from './subprocess.ts'

/** What a source needs to know of the dump it feeds. */
export interface SourceJob {
  options: PgdumpOptions
  database: string
  algorithm: Algorithm
  /** Where the directory format is dumped before it is streamed (scratchDir, else the OS temp dir). */
  scratchBase: string
}

/** How the dump's tools run: libpq's environment (the password too: never argv), the run's signal. */
export interface ToolRun {
  env: Record<string, string>
  signal: AbortSignal
  /** Scrubbed from what a tool says before it reaches an error. */
  secrets: string[]
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

export const explainPgDump =
  (database: string) =>
  (stderr: string, how: string): Error => {
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
function sourceOf(job: SourceJob, run: ToolRun, tool: Tool): Source {
  if (job.algorithm !== 'zstd' || job.options.format === 'plain')
    return { stream: toolOutput(tool), compressed: false }
  const { compressionLevel, compressionThreads } = job.options
  const zstd = (stdin: Readable) =>
    runTool('zstd', zstdArgs(compressionLevel, compressionThreads), {
      stdin,
      stdout: 'pipe',
      signal: run.signal,
    })
  return { stream: pipeTools(tool, zstd), compressed: true }
}

/** pg_dump of the job's database, in the exported snapshot. */
export async function pgDumpSource(
  job: SourceJob,
  run: ToolRun,
  pgDump: ToolVersion,
  snapshot: string,
): Promise<Source> {
  const args = pgDumpArgs(job.options, job.algorithm, snapshot)
  const tool = { ...run, explain: explainPgDump(job.database) }
  if (job.options.format !== 'directory')
    return sourceOf(job, run, runTool(pgDump.path, args, { ...tool, stdout: 'pipe' }))
  // pg_dump writes the directory format (in parallel) only to a directory: dump there, then
  // stream it as one tar through the same pipeline, and remove it.
  const scratch = await mkdtemp(path.join(job.scratchBase, 'dbops-dump-'))
  const dir = path.join(scratch, 'dump')
  try {
    await runTool(pgDump.path, [...args, `--file=${dir}`], tool).done
    if (!existsSync(path.join(dir, 'toc.dat')))
      throw new DbopsError('DUMP_OUTPUT_INVALID', `pg_dump wrote no toc.dat in ${dir}`)
  } catch (error) {
    await rm(scratch, { recursive: true, force: true })
    throw error
  }
  const tar = runTool('tar', ['-C', dir, '-cf', '-', '.'], { stdout: 'pipe', signal: run.signal })
  const source = sourceOf(job, run, tar)
  source.stream.once('close', () => void rm(scratch, { recursive: true, force: true }))
  return source
}

/** pg_dumpall --globals-only: the roles and tablespaces, stored beside the dump. */
export function pgDumpAllSource(job: SourceJob, run: ToolRun, pgDumpAll: ToolVersion): Source {
  const args = ['--globals-only', '--no-password', `--database=${job.database}`]
  if (job.options.noRolePasswords) args.push('--no-role-passwords')
  const tool = runTool(pgDumpAll.path, args, {
    ...run,
    stdout: 'pipe',
    explain: explainPgDump('globals (pg_dumpall)'),
  })
  return { stream: toolOutput(tool), compressed: false }
}
