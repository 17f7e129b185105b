/**
 * `pnpm bench [name...]`: runs each benchmark in bench/ (or the named ones) in turn. Each
 * benchmark runs dbops and the baseline a user would otherwise run side by side and prints
 * both; see the README for the figures measured on the reference machine.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = path.dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2)
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
let failed = 0
for (const file of benches) {
  process.stdout.write(`\n=== bench/${file} ===\n`)
  const result = spawnSync(
    process.execPath,
    ['--openssl-legacy-provider', '--import', 'tsx', path.join(dir, file)],
    { stdio: 'inherit' },
  )
  if (result.status !== 0) failed++
}
process.exit(failed > 0 ? 1 : 0)
