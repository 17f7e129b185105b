import { existsSync } from 'node:fs'
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { DbopsError, ExitCode } from 'dbops/plugin'
import { hasNoTransactionDirective, readSections, sha256, type MigrationFile } from './migration-file.ts'

const VERSIONED = /^(\d+)_([^/\\]+)\.sql$/
const REPEATABLE = /^R__([^/\\]+)\.sql$/
const PRISMA_DIR = /^(\d+)_(.+)$/

export interface MigrationSet {
  dir: string
  /** Versioned files in order. */
  versioned: MigrationFile[]
  repeatable: MigrationFile[]
  /** `migration_lock.toml` seen: Prisma's layout. */
  prisma: boolean
  /** Versions held by more than one file. */
  duplicates: Array<{ version: string; files: string[] }>
}

/**
 * Reads the migrations directory: `<version>_<name>.sql`, `R__<name>.sql` and Prisma's
 * `<ts>_<name>/migration.sql`. A `.sql` file with any other name is an error rather than
 * a file that silently never runs.
 */
export async function discoverMigrations(dir: string, displayBase: string): Promise<MigrationSet> {
  if (!existsSync(dir)) {
    throw new DbopsError('MIGRATIONS_DIR_MISSING', `the migrations directory ${path.relative(displayBase, dir) || dir} does not exist`, {
      hint: 'Create it, set the migrate plugin\'s `dir` option, or run `dbops migrate new <name>` to write the first file.',
      exitCode: ExitCode.usage,
    })
  }
  const entries = await readdir(dir, { withFileTypes: true })
  const versioned: MigrationFile[] = []
  const repeatable: MigrationFile[] = []
  const badNames: string[] = []
  let prisma = false
  await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        const m = PRISMA_DIR.exec(entry.name)
        const script = path.join(full, 'migration.sql')
        if (!m || !existsSync(script)) return
        prisma = true
        versioned.push(await load(script, displayBase, { kind: 'versioned', version: m[1]!, name: m[2]!, ledgerName: entry.name, prismaLayout: true }))
        return
      }
      if (entry.name === 'migration_lock.toml') {
        prisma = true
        return
      }
      if (!entry.name.endsWith('.sql') || !(entry.isFile() || (await stat(full)).isFile())) return
      const r = REPEATABLE.exec(entry.name)
      if (r) {
        repeatable.push(await load(full, displayBase, { kind: 'repeatable', version: `R__${r[1]}`, name: r[1]!, ledgerName: entry.name.slice(0, -4), prismaLayout: false }))
        return
      }
      const v = VERSIONED.exec(entry.name)
      if (!v) return void badNames.push(entry.name)
      versioned.push(await load(full, displayBase, { kind: 'versioned', version: v[1]!, name: v[2]!, ledgerName: entry.name.slice(0, -4), prismaLayout: false }))
    }),
  )
  if (badNames.length) {
    throw new DbopsError('MIGRATION_NAME_INVALID', `these files in ${path.relative(displayBase, dir) || dir} are not named like migrations: ${badNames.sort().join(', ')}`, {
      hint: 'Name versioned files <version>_<name>.sql (version: a 14-digit UTC timestamp or a zero-padded number) and repeatable ones R__<name>.sql.',
      exitCode: ExitCode.usage,
    })
  }
  versioned.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : a.ledgerName.localeCompare(b.ledgerName)))
  repeatable.sort((a, b) => a.name.localeCompare(b.name))
  const byVersion = new Map<string, string[]>()
  for (const f of versioned) byVersion.set(f.order.toString(), [...(byVersion.get(f.order.toString()) ?? []), f.display])
  const duplicates = [...byVersion].filter(([, files]) => files.length > 1).map(([version, files]) => ({ version, files }))
  return { dir, versioned, repeatable, prisma, duplicates }
}

async function load(file: string, displayBase: string, id: Pick<MigrationFile, 'kind' | 'version' | 'name' | 'ledgerName' | 'prismaLayout'>): Promise<MigrationFile> {
  const raw = await readFile(file)
  const text = raw.toString('utf8').replace(/^\uFEFF/, '')
  const { up, down } = readSections(text)
  return {
    ...id,
    order: id.kind === 'versioned' ? BigInt(id.version) : 0n,
    display: path.relative(displayBase, file) || file,
    path: file,
    text,
    up,
    down,
    noTransaction: hasNoTransactionDirective(text),
    contentSha256: sha256(raw),
  }
}

/** Throws when two files share a version: neither may run until one is renumbered. */
export function assertNoDuplicates(set: MigrationSet): void {
  if (!set.duplicates.length) return
  const list = set.duplicates.map((d) => `version ${d.version}: ${d.files.join(' and ')}`).join('; ')
  throw new DbopsError('MIGRATION_VERSION_DUPLICATE', `two migration files share one version (${list})`, {
    hint: 'Rename one of them to a new version (dbops migrate new <name> picks a fresh timestamp); no file was applied.',
    exitCode: ExitCode.usage,
  })
}
