import { existsSync } from 'node:fs'
import { appendFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { createInterface } from 'node:readline/promises'
import { DbopsError } from '../../errors.ts'
import type { CoreInput } from '../core-commands.ts'
import { err, out } from '../output.ts'
import { BACKUP_DIR, readAppFacts, type AppFacts } from './init-app.ts'
import { nextCommands, starterConfig } from './init-template.ts'

export async function initCommand({ flags }: CoreInput<'init'>): Promise<number> {
  const file = path.resolve('dbops.config.ts')
  if (existsSync(file) && !flags.force) {
    throw new DbopsError('INIT_EXISTS', `${file} already exists; not overwriting it`, {
      exitCode: 2,
      hint: 'Pass --force to replace it.',
    })
  }
  const app = readAppFacts(process.cwd())
  await writeFile(file, starterConfig(app))
  const plugins = [...app.plugins].map((p) => p.replace('@dbops/', ''))
  out(`wrote ${file}${plugins.length ? ` (plugins: ${plugins.join(', ')})` : ''}`)
  if (app.migrations.ledger === 'prisma' && app.plugins.has('@dbops/migrate-sql'))
    out(`migrations: ${app.migrations.dir}, recorded in Prisma's _prisma_migrations`)
  await offerGitignore(app, flags.yes)
  out('next:')
  out(
    app.dotenv.hasDatabaseUrl
      ? '  DATABASE_URL is read from .env'
      : `  set DATABASE_URL (or put it in ${app.dotenv.exists ? 'your' : 'a'} .env)`,
  )
  for (const command of nextCommands(app)) out(`  ${command}`)
  return 0
}

async function offerGitignore(app: AppFacts, yes: boolean): Promise<void> {
  if (app.gitignore.ignoresBackups) return
  const interactive = process.stdin.isTTY && process.stdout.isTTY
  if (!yes && !interactive) {
    out(
      `note: ${BACKUP_DIR}/ is not in .gitignore; add it (or run \`dbops init --force --yes\`) so dumps never reach git`,
    )
    return
  }
  if (!yes) {
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    const answer = (await rl.question(`Add ${BACKUP_DIR}/ to .gitignore? [Y/n] `))
      .trim()
      .toLowerCase()
    rl.close()
    if (answer !== '' && answer !== 'y' && answer !== 'yes') return
  }
  const file = path.join(app.dir, '.gitignore')
  await appendFile(
    file,
    `${app.gitignore.exists ? '\n' : ''}# dbops backups (database dumps: never commit them)\n${BACKUP_DIR}/\n`,
  )
  err(`added ${BACKUP_DIR}/ to ${file}`)
}
