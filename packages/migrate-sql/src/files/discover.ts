import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { DbopsError, ExitCode } from 'dbops/plugin'
import { decodeMigration } from './decode.ts'
import {
  hasNoTransactionDirective,
  readSections,
  sha256,
  type MigrationFile,
} from './migration-file.ts'

const VERSIONED = /^(\d+)_([^/\\]+)\.sql$/
const REPEATABLE = /^R__([^/\\]+)\.sql$/
const PRISMA_DIR = /^(\d+)_(.+)$/
const PRISMA_SCRIPT = 'migration.sql'

export type LedgerKind = 'dbops' | 'prisma'

export interface MigrationSet {
  dir: string
  /** Versioned files in the order they run. */
  versioned: MigrationFile[]
  repeatable: MigrationFile[]
  /** `migration_lock.toml` seen: Prisma's layout. */
  prisma: boolean
  /** Versions held by more than one file. */
  duplicates: Array<{ version: string; files: string[] }>
  /** Files that are not migrations under the ledger's rules (Prisma's: only folders count), for a warning. */
  ignored: string[]
}

/**
 * Prisma's order of migration folders: by name, as `prisma migrate deploy` sorts them
 * (prisma/prisma `listMigrations`: `localeCompare`). For the names Prisma writes
 * (`<14 digits>_<name>`) it is also the byte order the older Rust engine used.
 */
export const prismaOrder = (a: string, b: string) => a.localeCompare(b)

/**
 * Reads the migrations directory.
 *
 * With the dbops ledger: `<version>_<name>.sql`, `R__<name>.sql` and Prisma's
 * `<ts>_<name>/migration.sql`, identified by version; a `.sql` file with any other name is an
 * error rather than a file that silently never runs.
 *
 * With the Prisma ledger, Prisma's rules: every folder holding a `migration.sql` is a
 * migration, identified by the folder's name (several may share a timestamp, names may hold
 * spaces or have no timestamp at all), and they run in name order. Folders without a
 * `migration.sql` and files beside the folders are ignored, as Prisma ignores them.
 */
export async function discoverMigrations(
  dir: string,
  displayBase: string,
  ledger: LedgerKind = 'dbops',
): Promise<MigrationSet> {
  if (!existsSync(dir)) {
    throw new DbopsError(
      'MIGRATIONS_DIR_MISSING',
      `the migrations directory ${path.relative(displayBase, dir) || dir} does not exist`,
      {
        hint: "Create it, set the migrate plugin's `dir` option, or run `dbops migrate new <name>` to write the first file.",
        exitCode: ExitCode.usage,
      },
    )
  }
  const entries = await readdir(dir, { withFileTypes: true })
  const versioned: MigrationFile[] = []
  const repeatable: MigrationFile[] = []
  const badNames: string[] = []
  const ignored: string[] = []
  let prisma = false
  await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        const script = path.join(full, PRISMA_SCRIPT)
        const m = PRISMA_DIR.exec(entry.name)
        if (!existsSync(script) || (ledger === 'dbops' && !m)) return
        prisma = true
        const version = m?.[1] ?? entry.name
        versioned.push(
          await load(script, displayBase, {
            kind: 'versioned',
            version,
            name: m?.[2] ?? entry.name,
            ledgerName: entry.name,
            prismaLayout: true,
          }),
        )
        return
      }
      if (entry.name === 'migration_lock.toml') {
        prisma = true
        return
      }
      if (!entry.name.endsWith('.sql') || !(entry.isFile() || (await stat(full)).isFile())) return
      if (ledger === 'prisma') return void ignored.push(path.relative(displayBase, full) || full)
      const r = REPEATABLE.exec(entry.name)
      if (r) {
        repeatable.push(
          await load(full, displayBase, {
            kind: 'repeatable',
            version: `R__${r[1]}`,
            name: r[1]!,
            ledgerName: entry.name.slice(0, -4),
            prismaLayout: false,
          }),
        )
        return
      }
      const v = VERSIONED.exec(entry.name)
      if (!v) return void badNames.push(entry.name)
      versioned.push(
        await load(full, displayBase, {
          kind: 'versioned',
          version: v[1]!,
          name: v[2]!,
          ledgerName: entry.name.slice(0, -4),
          prismaLayout: false,
        }),
      )
    }),
  )
  if (badNames.length) {
    throw new DbopsError(
      'MIGRATION_NAME_INVALID',
      `these files in ${path.relative(displayBase, dir) || dir} are not named like migrations: ${badNames.sort().join(', ')}`,
      {
        hint: 'Name versioned files <version>_<name>.sql (version: a 14-digit UTC timestamp or a zero-padded number) and repeatable ones R__<name>.sql.',
        exitCode: ExitCode.usage,
      },
    )
  }
  if (ledger === 'prisma') versioned.sort((a, b) => prismaOrder(a.ledgerName, b.ledgerName))
  else
    versioned.sort((a, b) =>
      a.order < b.order ? -1 : a.order > b.order ? 1 : a.ledgerName.localeCompare(b.ledgerName),
    )
  for (const [i, f] of versioned.entries()) f.rank = i
  repeatable.sort((a, b) => a.name.localeCompare(b.name))
  const duplicates: MigrationSet['duplicates'] = []
  if (ledger === 'dbops') {
    const byVersion = new Map<string, string[]>()
    for (const f of versioned)
      byVersion.set(f.order.toString(), [...(byVersion.get(f.order.toString()) ?? []), f.display])
    for (const [version, files] of byVersion)
      if (files.length > 1) duplicates.push({ version, files })
  }
  return { dir, versioned, repeatable, prisma, duplicates, ignored: ignored.sort() }
}

async function load(
  file: string,
  displayBase: string,
  id: Pick<MigrationFile, 'kind' | 'version' | 'name' | 'ledgerName' | 'prismaLayout'>,
): Promise<MigrationFile> {
  const raw = await readFile(file)
  const { text, problem } = decodeMigration(raw)
  const { up, down } = readSections(text)
  return {
    ...id,
    order: id.kind === 'versioned' && /^\d+$/.test(id.version) ? BigInt(id.version) : -1n,
    rank: 0,
    display: path.relative(displayBase, file) || file,
    path: file,
    text,
    up,
    down,
    noTransaction: hasNoTransactionDirective(text),
    contentSha256: sha256(raw),
    ...(problem ? { encodingProblem: problem } : {}),
  }
}

/** How many clashes and files per clash the duplicate-version error names before it counts the rest. */
const SHOWN_CLASHES = 3
const SHOWN_FILES = 2

/** Throws when two files share a version: neither may run until one is renumbered. The message fits on a screen. */
export function assertNoDuplicates(set: MigrationSet): void {
  const clashes = set.duplicates
  if (!clashes.length) return
  const files = clashes.reduce((n, d) => n + d.files.length, 0)
  const describe = (d: MigrationSet['duplicates'][number]) =>
    `version ${d.version} is held by ${d.files.length} files: ${d.files.slice(0, SHOWN_FILES).join(', ')}${d.files.length > SHOWN_FILES ? ` and ${d.files.length - SHOWN_FILES} more` : ''}`
  const shown = clashes.slice(0, SHOWN_CLASHES).map(describe).join('; ')
  const rest =
    clashes.length > SHOWN_CLASHES ? `; and ${clashes.length - SHOWN_CLASHES} more versions` : ''
  const message =
    clashes.length === 1
      ? `${describe(clashes[0]!)}; no file was applied`
      : `${clashes.length} versions are each held by more than one file (${files} files): ${shown}${rest}; no file was applied`
  const prismaFolders = set.versioned.some((f) => f.prismaLayout)
  throw new DbopsError('MIGRATION_VERSION_DUPLICATE', message, {
    hint: prismaFolders
      ? "This is Prisma's folder layout, where a migration is identified by its folder name and several may share a timestamp: set the migrate plugin's `ledger: 'prisma'` to apply it as `prisma migrate deploy` does. With the dbops ledger, each version must be unique (`dbops migrate status` lists every clash)."
      : 'Rename all but one file of each version to a new version (dbops migrate new <name> picks a fresh timestamp); `dbops migrate status` lists every clash.',
    exitCode: ExitCode.usage,
  })
}
