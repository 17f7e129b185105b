/**
 * `pnpm test`: runs every uvu suite (`packages/*\/test/*.test.ts`, `test/*.test.ts`) in its
 * own Node process against one shared throwaway PostgreSQL, then prints its own closing
 * line `N passed, N failed`. Exit 1 when anything failed. Pass paths or substrings to run
 * only matching suites: `pnpm test:only backup`.
 */
import { spawn } from 'node:child_process'
import { readdirSync, existsSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '@dbops/test-utils'
import { startCluster } from '@dbops/test-utils'

function findSuites(): string[] {
  const dirs = [path.join(REPO_ROOT, 'test')]
  for (const pkg of readdirSync(path.join(REPO_ROOT, 'packages')))
    dirs.push(path.join(REPO_ROOT, 'packages', pkg, 'test'))
  for (const ex of existsSync(path.join(REPO_ROOT, 'examples'))
    ? readdirSync(path.join(REPO_ROOT, 'examples'))
    : [])
    dirs.push(path.join(REPO_ROOT, 'examples', ex, 'test'))
  return dirs
    .flatMap((dir) =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((f) => f.endsWith('.test.ts'))
            .map((f) => path.join(dir, f))
        : [],
    )
    .sort()
}

interface SuiteOutcome {
  file: string
  passed: number
  failed: number
  code: number | null
  output: string
  ms: number
}

function runSuite(file: string, env: NodeJS.ProcessEnv): Promise<SuiteOutcome> {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--openssl-legacy-provider', '--import', 'tsx', file], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    child.on('close', (code) => {
      const total = Number(/Total:\s+(\d+)/.exec(output)?.[1] ?? 0)
      const passed = Number(/Passed:\s+(\d+)/.exec(output)?.[1] ?? 0)
      // A suite that crashed before uvu's summary counts as one failure.
      const failed = total - passed || (code !== 0 ? 1 : 0)
      resolve({ file, passed, failed, code, output, ms: Date.now() - started })
    })
  })
}

const filters = process.argv.slice(2)
const suites = findSuites().filter(
  (f) => filters.length === 0 || filters.some((x) => f.includes(x)),
)
const cluster = await startCluster()
// An interrupted run (Ctrl-C, a CI timeout) must not leave the cluster running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => void cluster.stop().finally(() => process.exit(130)))
}
const env = {
  ...process.env,
  NO_COLOR: '1',
  DBOPS_TEST_PG: JSON.stringify({ port: cluster.port }),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
}
const concurrency = Number(process.env.DBOPS_TEST_CONCURRENCY ?? 2)
const outcomes: SuiteOutcome[] = []
let next = 0
try {
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < suites.length) {
        const file = suites[next++]!
        const outcome = await runSuite(file, env)
        outcomes.push(outcome)
        const rel = path.relative(REPO_ROOT, file)
        const ok = outcome.failed === 0 && outcome.code === 0
        process.stdout.write(
          `${ok ? 'ok  ' : 'FAIL'} ${rel} (${outcome.passed} passed, ${outcome.failed} failed, ${(outcome.ms / 1000).toFixed(1)}s)\n`,
        )
        if (!ok) process.stdout.write(`${outcome.output.replace(/^/gm, '    ')}\n`)
      }
    }),
  )
} finally {
  await cluster.stop()
}
const passed = outcomes.reduce((n, o) => n + o.passed, 0)
const failed = outcomes.reduce((n, o) => n + o.failed, 0)
process.stdout.write(`\n${suites.length} suites: ${passed} passed, ${failed} failed\n`)
process.exit(failed > 0 || outcomes.some((o) => o.code !== 0) ? 1 : 0)
