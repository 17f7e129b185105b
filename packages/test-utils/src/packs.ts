import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from './cli.ts'

const run = promisify(execFile)

export interface PackageManifest {
  name: string
  version: string
  private?: boolean
  exports?: Record<string, unknown>
  peerDependencies?: Record<string, string>
  dependencies?: Record<string, string>
  [key: string]: unknown
}

/** The packages under packages/ that are published (not `private`). */
export function publishablePackages(): { dir: string; manifest: PackageManifest }[] {
  const root = path.join(REPO_ROOT, 'packages')
  return readdirSync(root)
    .map((name) => path.join(root, name))
    .filter((dir) => existsSync(path.join(dir, 'package.json')))
    .map((dir) => ({
      dir,
      manifest: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageManifest,
    }))
    .filter(({ manifest }) => !manifest.private)
}

/**
 * `pnpm pack`s every publishable package into `dest`, as `pnpm publish` would pack it
 * (publishConfig applied, `workspace:^` replaced by the version), and returns the tarball
 * of each package by name. Needs a full `pnpm build` first.
 */
export async function packAll(dest: string): Promise<Map<string, string>> {
  const tarballs = new Map<string, string>()
  for (const { dir, manifest } of publishablePackages()) {
    await run('pnpm', ['pack', '--pack-destination', dest], { cwd: dir })
    // `@dbops/health` 0.1.0 → dbops-health-0.1.0.tgz, the name pnpm pack gives.
    tarballs.set(
      manifest.name,
      path.join(
        dest,
        `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`,
      ),
    )
  }
  return tarballs
}
