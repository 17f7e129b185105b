import path from 'node:path'
import { readFile } from 'node:fs/promises'
import { UsageError, type CommandContext } from 'dbops/plugin'
import { lintSettings } from '../apply.ts'
import { decodeMigration } from '../files/decode.ts'
import {
  hasNoTransactionDirective,
  readSections,
  sha256,
  type MigrationFile,
} from '../files/migration-file.ts'
import { lintMigrations, formatFinding, type LintInput } from '../lint/lint.ts'
import type { MigrateOptions } from '../options.ts'
import { readMigrations } from '../runner.ts'
import { MigrationSession } from '../session.ts'
import { loadParser } from '../sql/parser.ts'
import { prepareSection } from '../sql/prepare.ts'

/**
 * `dbops migrate lint [files] [--offline]`: every file (or the given ones), in run order.
 * With the database reachable, lock and rewrite findings are weighed by table size.
 * Exit 1 when a finding is an error.
 */
export async function lintCommand(
  paths: string[],
  { offline }: { offline: boolean },
  ctx: CommandContext,
  options: MigrateOptions,
): Promise<number> {
  await loadParser()
  let files: MigrationFile[]
  if (paths.length) {
    files = await Promise.all(paths.map((a) => loadLoose(path.resolve(a))))
  } else {
    const set = await readMigrations(options, ctx.logger)
    files = [...set.versioned, ...set.repeatable]
  }
  const inputs: LintInput[] = []
  for (const file of files)
    inputs.push({
      file,
      section: await prepareSection(file, file.up, options.placeholders, ctx.signal),
      transactional: !file.noTransaction && !file.prismaLayout,
    })
  let session: MigrationSession | undefined
  let note = ''
  if (!offline) {
    session = await MigrationSession.open(ctx.db.target, ctx.signal).catch((e: Error) => {
      note = `no database connection (${e.message}): table sizes not weighed`
      return undefined
    })
  }
  try {
    const findings = await lintMigrations(inputs, lintSettings(options), session, ctx.signal)
    const errors = findings.filter((f) => f.severity === 'error').length
    const warnings = findings.filter((f) => f.severity === 'warning').length
    if (ctx.json)
      ctx.printJson({
        status: errors ? 'errors' : 'ok',
        files: files.length,
        errors,
        warnings,
        weighed: Boolean(session),
        findings,
      })
    else {
      if (note) ctx.logger.warn(note)
      for (const f of findings.filter((f) => f.severity !== 'info')) ctx.print(formatFinding(f))
      ctx.print(
        `${files.length} file(s): ${errors} error(s), ${warnings} warning(s)${findings.some((f) => f.severity === 'info') ? `, ${findings.filter((f) => f.severity === 'info').length} finding(s) fine on small tables` : ''}`,
      )
    }
    return errors ? 1 : 0
  } finally {
    await session?.close()
  }
}

async function loadLoose(file: string): Promise<MigrationFile> {
  const raw = await readFile(file).catch(() => {
    throw new UsageError(`cannot read ${file}`)
  })
  const { text, problem } = decodeMigration(raw)
  const { up, down } = readSections(text)
  const base =
    path.basename(file) === 'migration.sql'
      ? path.basename(path.dirname(file))
      : path.basename(file, '.sql')
  return {
    kind: 'versioned',
    version: /^\d+/.exec(base)?.[0] ?? '0',
    order: 0n,
    rank: 0,
    name: base,
    ledgerName: base,
    display: path.relative(process.cwd(), file),
    path: file,
    prismaLayout: path.basename(file) === 'migration.sql',
    text,
    up,
    down,
    noTransaction: hasNoTransactionDirective(text),
    contentSha256: sha256(raw),
    ...(problem ? { encodingProblem: problem } : {}),
  }
}
