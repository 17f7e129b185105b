#!/usr/bin/env node
// The `dbops` bin: built JavaScript, no TypeScript loader. Only the user's config (and the
// local files it imports) goes through a loader, registered by config/load.ts when needed.
import { main } from './cli/main.ts'

process.exitCode = await main(process.argv.slice(2))
