import { allSets } from './sorted.ts'
import { meta, type ViewEnv } from './view-env.ts'

/** `/api/backups`: every set, newest first, and the folders that are not sets. */
export function backups(
  env: ViewEnv,
  query: { since?: Date; database?: string; destination?: string },
) {
  const since = query.since?.toISOString() ?? ''
  const sets = allSets(env.state).filter(
    (r) =>
      r.startedAt >= since &&
      (!query.database || r.database === query.database) &&
      (!query.destination || r.destination === query.destination),
  )
  return {
    ...meta(env),
    sets,
    incomplete: [...env.state.backups.values()].flatMap((d) => d.incomplete),
  }
}

/** `/api/backups/:destination/:id`: the set's manifest (objects, checksums, tables, verifications). */
export function backupSet(env: ViewEnv, destination: string, id: string) {
  const found = env.state.backups.get(destination)?.sets.find((s) => s.row.id === id)
  if (!found) return undefined
  const copies = allSets(env.state)
    .filter((r) => r.id === id && r.database === found.row.database)
    .map((r) => ({
      destination: r.destination,
      location: r.location,
      prefix: r.prefix,
      lastVerification: r.lastVerification,
    }))
  return { ...meta(env), set: found.row, manifest: found.manifest, copies }
}
