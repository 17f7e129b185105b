/**
 * `pnpm check:packages`: packs every publishable package exactly as `pnpm publish` would
 * (publishConfig applied, `workspace:^` replaced) and checks each tarball:
 *   - publint --strict and @arethetypeswrong/cli (ESM-only profile) pass;
 *   - it holds only dist/, README.md, LICENSE and package.json, with `.d.ts` for each entry;
 *   - package.json has the metadata npm shows (description, repository, homepage, keywords,
 *     engines), a caret peer range on dbops, and no workspace-only condition or protocol.
 * Needs a full build (`pnpm build`): the declarations are part of what is checked.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { REPO_ROOT } from '@dbops/test-utils'
import { packAll, type PackageManifest } from '@dbops/test-utils'

const run = promisify(execFile)
const ALLOWED = /^package\/(dist\/.+|README\.md|LICENSE|package\.json)$/
const REQUIRED_FIELDS = [
  'description',
  'repository',
  'homepage',
  'keywords',
  'engines',
  'license',
] as const

async function checkTarball(tarball: string, ours: Set<string>): Promise<string[]> {
  const problems: string[] = []
  const { stdout: listing } = await run('tar', ['tzf', tarball])
  const files = listing.split('\n').filter(Boolean)
  for (const file of files)
    if (!ALLOWED.test(file))
      problems.push(`ships ${file.replace(/^package\//, '')} (only dist/, README.md, LICENSE)`)
  for (const must of ['package/README.md', 'package/LICENSE'])
    if (!files.includes(must)) problems.push(`has no ${must.replace('package/', '')}`)
  const { stdout: json } = await run('tar', ['xzf', tarball, '-O', 'package/package.json'])
  const manifest = JSON.parse(json) as PackageManifest
  for (const field of REQUIRED_FIELDS)
    if (manifest[field] === undefined) problems.push(`package.json has no ${field}`)
  if (JSON.stringify(manifest).includes('workspace:'))
    problems.push('package.json still has a workspace: range')
  if (JSON.stringify(manifest.exports ?? {}).includes('dbops-source'))
    problems.push('exports still has the workspace-only dbops-source condition')
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    if (typeof target === 'string') continue
    const types = (target as { types?: string }).types
    if (!types || !files.includes(`package/${types.replace(/^\.\//, '')}`))
      problems.push(`exports["${subpath}"] has no shipped types (run \`pnpm build\`, not build:js)`)
  }
  // Our packages depend on each other with caret ranges (workspace:^), never an exact pin.
  for (const field of ['peerDependencies', 'dependencies'] as const) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (ours.has(name) && !range.startsWith('^'))
        problems.push(`${field}["${name}"] is "${range}", not a caret range (use workspace:^)`)
    }
  }
  for (const [tool, args] of [
    ['publint', ['run', tarball, '--strict']],
    ['attw', [tarball, '--profile', 'esm-only', '--format', 'ascii']],
  ] as const) {
    try {
      await run(path.join(REPO_ROOT, 'node_modules/.bin', tool), [...args], {
        cwd: REPO_ROOT,
        env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      })
    } catch (error) {
      const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string }
      problems.push(`${tool} failed:\n${(stdout + stderr).trim().replace(/^/gm, '      ')}`)
    }
  }
  return problems
}

const dest = await mkdtemp(path.join(os.tmpdir(), 'dbops-packs-'))
let failed = 0
try {
  const tarballs = await packAll(dest)
  for (const [name, tarball] of tarballs) {
    const problems = await checkTarball(tarball, new Set(tarballs.keys()))
    failed += problems.length > 0 ? 1 : 0
    process.stdout.write(
      `${problems.length ? 'FAIL' : 'ok  '} ${name}\n${problems.map((p) => `    ${p}\n`).join('')}`,
    )
  }
} finally {
  await rm(dest, { recursive: true, force: true })
}
if (failed > 0) {
  process.stdout.write(`${failed} package(s) not ready to publish\n`)
  process.exit(1)
}
