import {
  ExitCode,
  bar,
  drawsPictures,
  formatBytes,
  isVerified,
  sparkline,
  type CommandContext,
} from 'dbops/plugin'
import { allSets, type FoundSet } from './backup-sets.ts'

/** `dbops backups list`: every set of the database (or all), damaged and incomplete ones named. */
export async function listBackups(
  ctx: CommandContext,
  database: string | undefined,
): Promise<number> {
  const { sets, damaged: damagedSets, orphans, unreadable } = await allSets(ctx, database)
  const rowOf = (s: FoundSet) => ({
    id: s.manifest.id,
    startedAt: s.manifest.startedAt,
    database: s.manifest.database,
    size: s.manifest.objects.reduce((n, o) => n + o.size, 0),
    destination: s.storage.name,
    location: `${s.storage.location}/${s.prefix}`,
    format: s.manifest.format,
    compression: s.manifest.compression.algorithm,
    encrypted: !!s.manifest.encryption,
    verified: isVerified(s.manifest),
    lastVerification: s.manifest.verification.at(-1) ?? null,
    tags: s.manifest.tags,
  })
  const rows = sets.map(rowOf)
  // Damaged sets are listed under the folder's id (a damaged manifest may claim another's).
  const damaged = [
    ...damagedSets.map((d) => ({
      ...rowOf(d),
      id: d.prefix.split('/')[1]!,
      prefix: d.prefix,
      verified: false,
      problems: d.problems,
    })),
    ...unreadable.map((u) => ({
      id: u.id,
      destination: u.storage,
      prefix: u.prefix,
      location: `${ctx.storage.get(u.storage)?.location}/${u.prefix}`,
      problems: [`the manifest is unreadable: ${u.error}`],
    })),
  ]
  if (ctx.json) {
    ctx.printJson({ status: 'ok', backups: rows, damaged, incomplete: orphans, unreadable })
    return ExitCode.ok
  }
  if (rows.length === 0 && damaged.length === 0)
    ctx.print(
      `no backups${database ? ` of ${database}` : ''} in ${[...ctx.storage.keys()].join(', ')}`,
    )
  else {
    const pictures = drawsPictures(ctx.json)
    if (pictures && sets.length) for (const line of backupTrends(sets)) ctx.print(line)
    const largest = Math.max(0, ...rows.map((r) => r.size))
    const cells = (
      r: Partial<ReturnType<typeof rowOf>> & { id: string; destination: string },
      verified: string,
    ) => [
      r.id,
      r.startedAt?.replace('T', ' ').replace(/\.\d+Z$/, 'Z') ?? '?',
      r.database ?? '?',
      r.size === undefined ? '?' : formatBytes(r.size),
      ...(pictures ? [r.size === undefined ? '' : bar(r.size, largest, 8)] : []),
      r.destination,
      verified,
      r.tags?.join(',') ?? '',
    ]
    const table = [
      [
        'ID',
        'STARTED',
        'DATABASE',
        'SIZE',
        ...(pictures ? [''] : []),
        'DESTINATION',
        'VERIFIED',
        'TAGS',
      ],
      ...rows.map((r) =>
        cells(
          r,
          r.lastVerification
            ? `${r.lastVerification.status === 'verified' ? 'yes' : 'FAILED'} (${r.lastVerification.method})`
            : 'no',
        ),
      ),
      ...damaged.map((d) => cells(d, 'DAMAGED')),
    ]
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
    for (const row of table)
      ctx.print(
        row
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
  }
  if (damaged.length) {
    ctx.print(
      `\n${damaged.length} damaged set(s), not restorable as they are and left alone by retention:`,
    )
    for (const d of damaged) ctx.print(`  ${d.destination}:${d.prefix}: ${d.problems.join('; ')}`)
  }
  if (orphans.length)
    ctx.print(
      `\n${orphans.length} incomplete folder(s) without a manifest (failed or running backups; not restorable): ${orphans.map((o) => `${o.storage}:${o.prefix}`).join(', ')}`,
    )
  return ExitCode.ok
}

/** On a terminal, per database: size and duration of its sets, oldest to newest (each set once, whatever its copies). */
function backupTrends(sets: Awaited<ReturnType<typeof allSets>>['sets']): string[] {
  const byDb = new Map<string, Map<string, (typeof sets)[number]['manifest']>>()
  for (const s of sets)
    byDb.set(
      s.manifest.database,
      (byDb.get(s.manifest.database) ?? new Map()).set(s.manifest.id, s.manifest),
    )
  const width = Math.max(...[...byDb.keys()].map((d) => d.length))
  const lines = [...byDb].map(([db, own]) => {
    const list = [...own.values()].slice(0, 40).reverse()
    const ms = (m: (typeof list)[number]) => Date.parse(m.finishedAt) - Date.parse(m.startedAt)
    return `${db.padEnd(width)}  size ${sparkline(list.map((m) => m.objects.reduce((n, o) => n + o.size, 0)))}  duration ${sparkline(list.map(ms))}  ${list.length} set${list.length === 1 ? '' : 's'}`
  })
  return [...lines, '']
}
