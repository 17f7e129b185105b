import { existsSync, readdirSync } from 'node:fs'
import path from 'node:path'
import { DbopsError } from 'dbops/plugin'
import { type ExecaError, execa } from 'execa'
import type { PgdumpOptions } from './options.ts'

export type PgTool = 'pg_dump' | 'pg_dumpall' | 'pg_restore' | 'psql'

export interface ToolVersion {
  path: string
  /** `15.18` */
  version: string
  major: number
}

/**
 * Where a PostgreSQL client tool lives: `pgDumpPath` for pg_dump, else `binDir`, else the
 * first of PATH; when none is configured and `minMajor` is given, a newer Debian-style
 * install (/usr/lib/postgresql/<N>/bin) is preferred over an older one on PATH.
 */
export async function findTool(
  tool: PgTool,
  options: Pick<PgdumpOptions, 'binDir' | 'pgDumpPath'>,
  configDir: string,
  minMajor?: number,
): Promise<ToolVersion> {
  if (tool === 'pg_dump' && options.pgDumpPath)
    return toolVersion(path.resolve(configDir, options.pgDumpPath), tool)
  if (options.binDir)
    return toolVersion(path.join(path.resolve(configDir, options.binDir), tool), tool)
  const onPath = await toolVersion(tool, tool).catch(() => undefined)
  if (onPath && (minMajor === undefined || onPath.major >= minMajor)) return onPath
  for (const candidate of installedVersions(tool)) {
    if (minMajor === undefined || candidate.major >= minMajor)
      return toolVersion(candidate.path, tool)
  }
  if (onPath) return onPath
  throw new DbopsError('PG_TOOL_NOT_FOUND', `${tool} was not found on PATH`, {
    hint: `Install the PostgreSQL client tools (e.g. apt install postgresql-client) or set binDir in the pgdump options.`,
  })
}

/** /usr/lib/postgresql/<N>/bin/<tool>, newest first. */
function installedVersions(tool: PgTool): { path: string; major: number }[] {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return []
  return readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(path.join(root, d, 'bin', tool)))
    .map((d) => ({ path: path.join(root, d, 'bin', tool), major: Number(d) }))
    .sort((a, b) => b.major - a.major)
}

export async function toolVersion(file: string, tool: PgTool): Promise<ToolVersion> {
  let stdout: string
  try {
    stdout = (await execa(file, ['--version'], { timeout: 10_000 })).stdout
  } catch (error) {
    const { code, shortMessage } = error as ExecaError
    throw new DbopsError(
      'PG_TOOL_NOT_FOUND',
      code === 'ENOENT'
        ? `${tool} was not found at ${file}`
        : `${file} --version failed: ${shortMessage.split('\n')[0]}`,
      {
        hint: 'Check binDir / pgDumpPath in the pgdump options, or install the PostgreSQL client tools.',
        cause: error,
      },
    )
  }
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(stdout) ?? /(\d+)\.(\d+)/.exec(stdout)
  if (!match)
    throw new DbopsError(
      'PG_TOOL_VERSION',
      `could not read the version of ${file} from "${stdout.trim()}"`,
    )
  const major = Number(match[1])
  return {
    path: file,
    version: match[2] !== undefined ? `${match[1]}.${match[2]}` : match[1]!,
    major,
  }
}

/** `server_version_num` 150018 -> { version: '15.18', major: 15 }. */
export function serverVersionOf(num: number): { version: string; major: number } {
  const major = Math.floor(num / 10000)
  return { version: `${major}.${num % 10000}`, major }
}

/**
 * pg_dump can dump servers of its own major version and older, never newer: stop before
 * dumping with the sentence users otherwise meet as "aborting because of server version mismatch".
 */
export function assertDumpCompatible(
  dump: ToolVersion,
  server: { version: string; major: number },
): void {
  if (dump.major >= server.major) return
  throw new DbopsError(
    'PGDUMP_TOO_OLD',
    `pg_dump ${dump.version} (${dump.path}) is older than the server (PostgreSQL ${server.version}); pg_dump can only dump servers of its own major version or older`,
    {
      hint: `Install the PostgreSQL ${server.major} client tools (e.g. apt install postgresql-client-${server.major}) and point binDir at them (/usr/lib/postgresql/${server.major}/bin) or set pgDumpPath.`,
    },
  )
}

/** pg_restore cannot read archives made by a newer pg_dump. */
export function assertRestoreCompatible(restore: ToolVersion, archivePgDumpVersion: string): void {
  const archiveMajor = Number(archivePgDumpVersion.split('.')[0])
  if (!Number.isFinite(archiveMajor) || restore.major >= archiveMajor) return
  throw new DbopsError(
    'PGRESTORE_TOO_OLD',
    `${path.basename(restore.path)} ${restore.version} is older than the pg_dump ${archivePgDumpVersion} that made this backup and cannot read it`,
    {
      hint: `Install the PostgreSQL ${archiveMajor} client tools and set binDir to them.`,
    },
  )
}
