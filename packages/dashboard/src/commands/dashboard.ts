import { spawn } from 'node:child_process'
import { UsageError, defineCommand, type Command } from 'dbops/plugin'
import { parseSince, type DashboardOptions } from '../options.ts'
import { listen } from '../server/listen.ts'
import { prepareDashboard } from '../server/start.ts'

export function dashboardCommand(options: DashboardOptions): Command {
  return defineCommand({
    summary: 'serve a read-only web dashboard: health, backups, restore proofs, runs',
    description: `Serves a read-only web page of this project's databases: health now and over time, the last
backup of each database in each destination and its restore proof, schedules and runs,
migrations. Its JSON endpoints (/api/...) serve scripts too; see the package README.`,
    flags: {
      port: {
        type: 'number',
        integer: true,
        min: 0,
        max: 65535,
        default: options.port,
        description: 'port (0: any free port)',
      },
      host: {
        type: 'string',
        placeholder: 'addr',
        default: options.host,
        description: 'address to bind. Any other address than loopback needs a token.',
      },
      token: {
        type: 'string',
        placeholder: 't',
        description:
          'the token every request must carry (prefer DBOPS_DASHBOARD_TOKEN: argv is visible to other users in ps). Open /?token=<t> once in the browser.',
      },
      open: { type: 'boolean', description: 'open the page in the default browser' },
      since: {
        type: 'string',
        placeholder: 'd',
        default: options.since,
        description: 'how far back lists and charts go (12h, 30d)',
      },
      refresh: {
        type: 'number',
        placeholder: 's',
        default: options.refreshSeconds,
        description: 'seconds between reads of the database and storage',
      },
    },
    notes: `It reads in read-only transactions as the configured user and never writes. While the
database is down it says so and shows what it last read. Ctrl-C stops it.

Exit codes: 130 stopped (Ctrl-C), 2 bad arguments (a public address without a token).`,
    async run({ flags }, ctx) {
      const { port, host, open, since } = flags
      const token = flags.token ?? (process.env.DBOPS_DASHBOARD_TOKEN || undefined)
      checkSince(since)
      const refreshSeconds = flags.refresh
      if (!(refreshSeconds > 0))
        throw new UsageError(
          `--refresh must be a number of seconds above 0, not '${refreshSeconds}'`,
        )

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
  })
}

function checkSince(since: string): void {
  try {
    parseSince(since)
  } catch (error) {
    throw new UsageError(`--since: ${(error as Error).message}`)
  }
}

function openBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open'
  const child = spawn(command, [url], { stdio: 'ignore', detached: true })
  child.on('error', () => {})
  child.unref()
}
