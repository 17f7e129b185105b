import { formatDuration, listBackupSets } from 'dbops/plugin'
import { z } from 'zod'
import { defineCheck } from './define-check.ts'

/** Namespaces of plugins that write dbops backup sets. */
const BACKUP_NAMESPACES = new Set(['pgdump', 'backup'])

/**
 * A destination without a usable set. Nothing at all is a new install whose first backup
 * has not run yet: a warning, so `dbops health` right after `dbops init` is not an alarm.
 * Sets none of which is verified (requireVerified), or only folders of backups that never
 * finished, mean backups ran and none can be trusted: critical.
 */
function noUsableSet(
  database: string,
  sets: number,
  leftovers: number,
): { value: null; status: 'warning' | 'critical'; detail: string } {
  if (sets === 0 && leftovers === 0)
    return {
      value: null,
      status: 'warning',
      detail: `no backup yet of ${database}: run the backup pipeline (e.g. \`dbops run backup\`) and schedule it`,
    }
  if (sets > 0)
    return {
      value: null,
      status: 'critical',
      detail: `no verified backup set of ${database} among ${sets} set(s)`,
    }
  return {
    value: null,
    status: 'critical',
    detail: `no finished backup set of ${database}: ${leftovers} folder(s) of backups that never finished or cannot be read`,
  }
}

/**
 * Age of the newest backup set (a folder with a manifest: only finished backups have one)
 * in every configured destination; the worst destination decides.
 */
export const backupFreshnessCheck = defineCheck({
  id: 'backup_freshness',
  title: 'backup freshness',
  unit: 'seconds',
  local: true,
  defaults: { warning: 26 * 3600, critical: 48 * 3600 },
  source: 'dbops: a daily backup plus slack (26 h) / two missed days (48 h)',
  hint: "The scheduled backup has not completed: check `dbops runs` and the backup pipeline's last error; `dbops backups list` shows what each destination holds.",
  options: {
    /** Destinations to look in (default: every configured one). */
    storage: z.array(z.string()).optional(),
    /** Database name of the sets (default: the connection's database). */
    database: z.string().optional(),
    /** Only count sets whose newest verification passed. */
    requireVerified: z.boolean().default(false),
  },
  run: async ({ ctx, options }) => {
    const configured =
      ctx.config.plugins.some((p) => BACKUP_NAMESPACES.has(p.namespace)) ||
      options.storage !== undefined
    if (!configured) return { status: 'skipped', message: 'no backup plugin is configured' }
    const names = options.storage ?? [...ctx.storage.keys()]
    const database = options.database ?? ctx.db.target.database
    const findings = []
    for (const name of names) {
      const storage = ctx.storage.get(name)
      if (!storage) {
        findings.push({
          object: name,
          value: null,
          status: 'unknown' as const,
          detail: `no storage named '${name}' is configured`,
        })
        continue
      }
      try {
        const { sets, damaged, unreadable, orphans } = await listBackupSets(storage, database)
        const usable = options.requireVerified
          ? sets.filter((s) => s.manifest.verification.at(-1)?.status === 'verified')
          : sets
        const newest = usable[0]
        if (!newest) {
          findings.push({
            object: `${name} (${storage.location})`,
            ...noUsableSet(
              database,
              sets.length,
              damaged.length + unreadable.length + orphans.length,
            ),
          })
          continue
        }
        const age = (Date.now() - Date.parse(newest.manifest.finishedAt)) / 1000
        findings.push({
          object: `${name} (${storage.location})`,
          value: age,
          detail: `newest ${newest.manifest.id}, finished ${formatDuration(age * 1000)} ago; ${sets.length} set(s)`,
        })
      } catch (error) {
        findings.push({
          object: name,
          value: null,
          status: 'unknown' as const,
          detail: `cannot list backups: ${(error as Error).message}`,
        })
      }
    }
    const ages = findings.map((f) => f.value).filter((v): v is number => v !== null)
    return {
      value: ages.length ? Math.max(...ages) : null,
      findings,
      message:
        findings
          .map(
            (f) =>
              `${f.object.split(' ')[0]}: ${f.value !== null ? `${formatDuration(f.value * 1000)} old` : f.detail}`,
          )
          .join('; ') || 'no destination configured',
    }
  },
})
