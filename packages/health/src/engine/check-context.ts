import type { Context } from 'dbops/plugin'
import type pg from 'pg'
import { checkOptions, type HealthOptions } from '../options.ts'
import type { CheckContext, CheckDefinition, ServerInfo } from '../types.ts'

/** What a check runs with: its database client, if it has one, and the server facts, if read. */
export interface CheckSession {
  client?: pg.ClientBase
  server?: ServerInfo
  /** When this check must be done by (epoch ms): its own timeout, never past the run's deadline. */
  deadline: number
}

/**
 * The context a check's `run` gets. A local check has no client (and, with the database
 * down, no server facts): touching them is a bug in the check, said by name.
 */
export function checkContext(
  ctx: Context,
  check: CheckDefinition,
  options: HealthOptions,
  session: CheckSession,
): CheckContext {
  const missing = (what: string) => new Error(`${check.id} has no ${what}`)
  const { client, server, deadline } = session
  return {
    sql: async (text, params) => {
      if (!client) throw missing('database connection')
      return (await client.query(text, params)).rows
    },
    get client() {
      if (!client) throw missing('database connection')
      return client
    },
    get server() {
      if (!server) throw missing('server facts (the database could not be read)')
      return server
    },
    options: checkOptions(options, check.id),
    limit: options.limit,
    scope: options.scope,
    ctx,
    remainingMs: () => deadline - Date.now(),
  }
}
