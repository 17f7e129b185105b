import { spawn } from 'node:child_process'
import { UsageError, takeFlag, takeOption, type Command, type CommandContext } from 'dbops/plugin'
import { parseSince, type DashboardOptions } from '../options.ts'
import { listen } from '../server/listen.ts'
import { prepareDashboard } from '../server/start.ts'

export const DASHBOARD_HELP = `dbops dashboard [--port 7070] [--host 127.0.0.1] [--open] [--since 90d] [--refresh 15]

Serves a read-only web page of this project's databases: health now and over time, the last
backup of each database in each destination and its restore proof, schedules and runs,
migrations. Its JSON endpoints (/api/...) serve scripts too; see the package README.

Options:
  --port <n>       port (default 7070; 0: any free port)
  --host <addr>    address to bind (default 127.0.0.1). Any other address needs a token.
  --token <t>      the token every request must carry (prefer DBOPS_DASHBOARD_TOKEN: argv is
                   visible to other users in ps). Open /?token=<t> once in the browser.
  --open           open the page in the default browser
  --since <d>      how far back lists and charts go (default 90d; 12h, 30d)
  --refresh <s>    seconds between reads of the database and storage (default 15)

It reads in read-only transactions as the configured user and never writes. While the
database is down it says so and shows what it last read. Ctrl-C stops it.

Exit codes: 130 stopped (Ctrl-C), 2 bad arguments (a public address without a token).`

export function dashboardCommand(options: DashboardOptions): Command {
  return {
    summary: 'serve a read-only web dashboard: health, backups, restore proofs, runs',
    help: DASHBOARD_HELP,
    async run(argv, ctx: CommandContext) {
      const args = [...argv]
      const port = intArg(takeOption(args, '--port'), '--port', 0, 65535) ?? options.port
      const host = takeOption(args, '--host') ?? options.host
      const token = takeOption(args, '--token') ?? (process.env.DBOPS_DASHBOARD_TOKEN || undefined)
      const open = takeFlag(args, '--open')
      const since = takeOption(args, '--since') ?? options.since
      const refresh = takeOption(args, '--refresh')
      if (args.length)
        throw new UsageError(
          `unexpected argument '${args[0]}'`,
          'Run `dbops dashboard --help` for the options.',
        )
      checkSince(since)
      const refreshSeconds = refresh === undefined ? options.refreshSeconds : Number(refresh)
      if (!(refreshSeconds > 0))
        throw new UsageError(`--refresh must be a number of seconds above 0, not '${refresh}'`)

      const served = await prepareDashboard({
        config: ctx.config,
        logger: ctx.logger,
        options: { ...options, refreshSeconds },
        host,
        since,
        ...(token ? { token } : {}),
      })
      let server: Awaited<ReturnType<typeof listen>>
      try {
        server = await listen(served.app, host, port)
      } catch (error) {
        await served.close()
        throw new UsageError(
          `cannot serve the dashboard on ${host}:${port}: ${(error as Error).message}`,
          'Choose a free port with --port, or another --host.',
        )
      }
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${server.port}/`
      if (ctx.json)
        ctx.printJson({
          status: 'serving',
          url,
          target: served.collector.state.target,
          tokenRequired: !!token,
        })
      else
        ctx.print(
          `dashboard of ${served.collector.state.target} on ${url}${token ? ' (token required: open it once as ?token=<your token>)' : ''}; read-only; Ctrl-C stops it`,
        )
      if (open) openBrowser(url)
      await new Promise<void>((resolve) =>
        ctx.signal.aborted
          ? resolve()
          : ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
      )
      await server.close()
      await served.close()
      return 130
    },
  }
}

function checkSince(since: string): void {
  try {
    parseSince(since)
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message}`)
  }
}

export function intArg(
  value: string | undefined,
  name: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not '${value}'`)
  return n
}

function openBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(command, [url], { stdio: 'ignore', detached: true })
  child.on('error', () => {})
  child.unref()
}
