// Helpers of the health suites (not a suite itself).
import pg from 'pg'
import { makeWorkdir, runCli, type TestDatabase } from '@dbops/test-utils'
import type { HealthReport } from '../src/types.ts'

/** A project whose config enables the health plugin with `options` (a TS object literal). */
export async function healthProject(options = '{}', extra = '', pool = '{ max: 5 }') {
  return makeWorkdir({
    'dbops.config.ts': `import { defineConfig } from 'dbops'
import health from '@dbops/health'
export default defineConfig({
  connection: { url: process.env.DATABASE_URL },
  pool: ${pool},
  ${extra}
  plugins: [health(${options})],
  pipelines: { health: ['health:check'] },
})
`,
  })
}

export async function healthJson(
  dir: string,
  url: string,
  args: string[] = [],
): Promise<{ code: number | null; report: HealthReport; stderr: string; stdout: string }> {
  const r = await runCli(['health', '--format', 'json', ...args], {
    cwd: dir,
    env: { DATABASE_URL: url },
  })
  let report: HealthReport
  try {
    report = JSON.parse(r.stdout) as HealthReport
  } catch {
    throw new Error(`dbops health did not print JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`)
  }
  return { code: r.code, report, stderr: r.stderr, stdout: r.stdout }
}

export function result(report: HealthReport, check: string) {
  const r = report.checks.find((c) => c.check === check)
  if (!r)
    throw new Error(`no result for ${check} in ${report.checks.map((c) => c.check).join(', ')}`)
  return r
}

/** Another session, as an application would hold one. */
export async function session(db: TestDatabase, url = db.url): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'health-test' })
  client.on('error', () => {})
  await client.connect()
  return client
}

export async function waitFor(
  predicate: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await predicate()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
