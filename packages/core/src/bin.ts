#!/usr/bin/env node
// The `dbops` bin: built JavaScript, no TypeScript loader. Only the user's config (and the
// local files it imports) goes through one, jiti, in config/import-config.ts.
import { createRequire } from 'node:module'

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // Answered before the CLI is imported: a version check costs what `node -e 0` costs.
  process.stdout.write(
    `${(createRequire(import.meta.url)('dbops/package.json') as { version: string }).version}\n`,
  )
} else {
  const { main } = await import('./cli/main.ts')
  process.exitCode = await main(argv)
}
