import { isSecretKey, type ResolvedConfig } from 'dbops/plugin'

/**
 * Every secret value of the config (passwords, tokens, webhook and ping URLs, keys), as
 * core's session collects them, plus URL passwords: what no page or endpoint may show.
 */
export function configSecrets(config: ResolvedConfig): string[] {
  const out: string[] = []
  const walk = (value: unknown, key: string, depth: number) => {
    if (depth > 8 || value === null || value === undefined) return
    if (typeof value === 'string') {
      if (isSecretKey(key) && value.length >= 4) out.push(value)
      const password = /^[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/i.exec(value)?.[1]
      if (password) out.push(password, decodeURIComponent(password))
      return
    }
    if (Array.isArray(value)) return value.forEach((v) => walk(v, key, depth + 1))
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k, depth + 1)
  }
  walk(config.connection, 'connection', 0)
  walk(config.pluginOptions, '', 0)
  walk(config.notify, 'notify', 0)
  walk(config.storageOptions, '', 0)
  for (const s of Object.values(config.schedules)) if (s.ping) out.push(s.ping)
  return [...new Set(out.filter((s) => s.length >= 4))]
}
