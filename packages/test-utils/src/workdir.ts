import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { REPO_ROOT } from './cli.ts'

/** A new empty directory under the repo's `.tmp/` (created when a fresh clone lacks it). */
export async function repoTempDir(prefix: string): Promise<string> {
  const base = path.join(REPO_ROOT, '.tmp')
  await mkdir(base, { recursive: true })
  return mkdtemp(path.join(base, prefix))
}

/**
 * A temp project directory for a test: write a `dbops.config.ts` (and other files) into it.
 * Created inside the repo's `.tmp/` so the config can import `dbops` and the plugins from
 * the workspace's node_modules, as a user's project would.
 */
export async function makeWorkdir(files: Record<string, string> = {}): Promise<{
  dir: string
  write(file: string, content: string): Promise<string>
  remove(): Promise<void>
}> {
  const dir = await repoTempDir('work-')
  const write = async (file: string, content: string) => {
    const full = path.join(dir, file)
    await mkdir(path.dirname(full), { recursive: true })
    await writeFile(full, content)
    return full
  }
  for (const [file, content] of Object.entries(files)) await write(file, content)
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) }
}
