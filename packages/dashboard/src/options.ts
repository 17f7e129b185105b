import { z } from 'zod'

/** `dashboard({...})` in a config. Every key is optional; the command line overrides port, host and since. */
export const dashboardOptionsSchema = z.strictObject({
  /** Port of `dbops dashboard` (and of `dbops watch --dashboard` without --metrics-port). */
  port: z.number().int().min(0).max(65535).default(7070),
  /** Address it binds. Anything but loopback needs a token (`--token` or DBOPS_DASHBOARD_TOKEN). */
  host: z.string().min(1).default('127.0.0.1'),
  /** How often the sources (database, storage) are read again while the page is served. */
  refreshSeconds: z.number().positive().max(3600).default(15),
  /** How far back the charts and lists go (`90d`, `12h`); health history is kept 90 days by default. */
  since: z
    .string()
    .regex(/^\d+(\.\d+)?(m|h|d)$/, "a duration such as '90d', '12h' or '30m'")
    .default('90d'),
  /** The time since the last restore proof of a database turns red past this many days. */
  restoreProofMaxAgeDays: z.number().positive().default(30),
  /** The last backup of a database turns red past this many hours. */
  backupMaxAgeHours: z.number().positive().default(26),
  /** Failed runs of the last this many days are listed in the "Now" view. */
  recentFailureDays: z.number().positive().default(7),
  /** statement_timeout of the dashboard's read-only queries. */
  statementTimeoutMs: z.number().int().positive().default(5000),
})

export type DashboardOptions = z.output<typeof dashboardOptionsSchema>
export type DashboardOptionsInput = z.input<typeof dashboardOptionsSchema>

/** `90d`, `12h`, `30m` -> milliseconds. */
export function parseSince(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(m|h|d)$/.exec(text.trim())
  if (!match) throw new Error(`'${text}' is not a duration such as 90d, 12h or 30m`)
  return Number(match[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 'm' | 'h' | 'd']
}
