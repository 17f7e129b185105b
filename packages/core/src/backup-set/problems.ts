import type { BackupManifest } from './manifest.ts'
import { dateProblem, isoTime } from './dates.ts'

export interface SetProblems {
  /** The manifest itself is not believable: its dates, or the folder it claims. */
  manifest: string[]
  /** The manifest is believable but the storage does not hold what it describes. */
  objects: string[]
}

/**
 * What makes a readable manifest untrustworthy as a backup, checked against the folder it
 * lives in and the objects the storage listed there (`stored`: key -> size). No problems
 * means the set is sound. A set with problems is shown as damaged, never restored as
 * `latest`, and left alone by retention.
 */
export function manifestProblems(
  prefix: string,
  manifest: BackupManifest,
  stored: ReadonlyMap<string, number>,
  now: Date,
): SetProblems {
  const problems: string[] = []
  const objects: string[] = []
  const [database, id] = prefix.split('/')
  if (manifest.database !== database || manifest.id !== id)
    problems.push(`the manifest says ${manifest.database}/${manifest.id} but lives in ${prefix}`)
  const started = dateProblem(manifest.startedAt, now)
  const finished = dateProblem(manifest.finishedAt, now)
  if (started) problems.push(`startedAt ${started}`)
  if (finished) problems.push(`finishedAt ${finished}`)
  if (!started && !finished && isoTime(manifest.finishedAt)! < isoTime(manifest.startedAt)!)
    problems.push('finishedAt is before startedAt')
  manifest.verification.forEach((v, i) => {
    const problem = dateProblem(v.at, now)
    if (problem) problems.push(`verification ${i + 1} at ${problem}`)
  })
  for (const object of manifest.objects) {
    const size = stored.get(prefix + object.name)
    if (size === undefined) objects.push(`${object.name} is missing`)
    else if (size !== object.size)
      objects.push(
        `${object.name} is ${size} bytes, the manifest says ${object.size}: it is truncated or was replaced`,
      )
  }
  return { manifest: problems, objects }
}
