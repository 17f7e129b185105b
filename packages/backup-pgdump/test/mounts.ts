import { execFileSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'

/**
 * A small tmpfs mounted at `dir` (root only): a real disk that fills up, or a real read-only
 * file system. Returns undefined when mounting is not possible here, so a suite can say
 * which tests it skipped instead of failing for a reason that is not the code's.
 */
export function mountTmpfs(
  dir: string,
  options: { sizeMb: number; readOnly?: boolean },
): { unmount(): void } | undefined {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync(
      'mount',
      [
        '-t',
        'tmpfs',
        '-o',
        `size=${options.sizeMb}m,mode=0755${options.readOnly ? ',ro' : ''}`,
        'tmpfs',
        dir,
      ],
      { stdio: 'pipe' },
    )
  } catch {
    return undefined
  }
  return {
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' })
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' }) // still busy: detach it now, freed when released
      }
    },
  }
}

/** Every mount a suite made, unmounted in its `after` even when an assertion failed. */
const mounted: { unmount(): void }[] = []

export function mountForSuite(
  dir: string,
  options: { sizeMb: number; readOnly?: boolean },
): boolean {
  const mount = mountTmpfs(dir, options)
  if (mount) mounted.push(mount)
  return !!mount
}

export function unmountAll(): void {
  for (const m of mounted.splice(0)) m.unmount()
}
