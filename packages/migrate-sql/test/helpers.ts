import { createTestDatabase, makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'

export { createTestDatabase, runCli }
export type { TestDatabase }

/** A project whose config uses @dbops/migrate-sql with `options` (a TS object literal). */
export async function migrateProject(
  db: TestDatabase,
  options = '{}',
  files: Record<string, string> = {},
  pipelines = `{ migrate: ['migrate:apply'] }`,
) {
  const work = await makeWorkdir({
    'dbops.config.ts': `import { defineConfig, env } from 'dbops'
import migrate from '@dbops/migrate-sql'
export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  plugins: [migrate(${options})],
  pipelines: ${pipelines},
})
`,
    ...files,
  })
  const cli = (
    args: string[],
    extra: { signalAfterMs?: { signal: NodeJS.Signals; ms: number } } = {},
  ) => runCli(args, { cwd: work.dir, env: { DATABASE_URL: db.url }, ...extra })
  const json = async (args: string[]) => {
    const r = await cli([...args, '--json'])
    let body: any
    try {
      body = JSON.parse(r.stdout)
    } catch {
      throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`)
    }
    return { ...r, body }
  }
  return { ...work, cli, json }
}

/** Polls until `check` returns true (or throws after `ms`). */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}
