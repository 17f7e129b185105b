import { existsSync } from 'node:fs'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { UsageError, type CommandContext } from 'dbops/plugin'
import type { MigrateOptions } from '../options.ts'

/** `dbops migrate new <name>`: the next file, in the layout the directory already uses. */
export async function newCommand(
  words: string,
  { repeatable }: { repeatable: boolean },
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  const raw = words.trim()
  if (!raw)
    throw new UsageError(
      'migrate new needs a name',
      'Example: dbops migrate new add_users_email_index',
    )
  const name = raw
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  if (!name) throw new UsageError(`'${raw}' has no letters or digits to name a file after`)
  const dir = path.resolve(options.configDir, options.dir)
  await mkdir(dir, { recursive: true })
  const entries = existsSync(dir) ? await readdir(dir) : []
  const prisma = entries.includes('migration_lock.toml') || options.ledger === 'prisma'
  let file: string
  if (repeatable) file = path.join(dir, `R__${name}.sql`)
  else {
    const versions = entries
      .map((e) => /^(\d+)_/.exec(e)?.[1])
      .filter((v): v is string => Boolean(v))
    const padded = versions.length > 0 && versions.every((v) => v.length < 14)
    let version: string
    if (padded) {
      const width = Math.max(...versions.map((v) => v.length))
      version = String(Math.max(...versions.map(Number)) + 1).padStart(width, '0')
    } else {
      version = new Date().toISOString().replace(/\D/g, '').slice(0, 14)
      const newest = versions.reduce((a, v) => (BigInt(v) > BigInt(a) ? v : a), '0')
      if (BigInt(version) <= BigInt(newest)) version = (BigInt(newest) + 1n).toString()
    }
    file = prisma
      ? path.join(dir, `${version}_${name}`, 'migration.sql')
      : path.join(dir, `${version}_${name}.sql`)
  }
  if (existsSync(file)) throw new UsageError(`${path.relative(process.cwd(), file)} already exists`)
  await mkdir(path.dirname(file), { recursive: true })
  const template = prisma
    ? `-- ${name}\n`
    : repeatable
      ? `-- Repeatable: runs again whenever it changes, after the versioned files. Keep it idempotent.\n`
      : `-- dbops:up\n\n\n-- dbops:down\n`
  await writeFile(file, template, { flag: 'wx' })
  const shown = path.relative(process.cwd(), file)
  if (ctx.json) ctx.printJson({ status: 'ok', file: shown })
  else ctx.print(`created ${shown}`)
  return 0
}
