import { redact, scrub } from '../../secrets.ts'
import { collectSecrets, openSession } from '../../session.ts'
import { resolveTarget, describeTarget } from '../../db/connection.ts'
import type { Globals } from '../declaration/global-flags.ts'
import { out } from '../output.ts'

export async function configCommand(globals: Globals): Promise<number> {
  const session = await openSession({
    configFile: globals.config,
    env: { command: 'config', dryRun: globals.dryRun },
  })
  try {
    const c = session.config
    const view = {
      file: c.file,
      connection: { ...c.connection, target: describeTarget(resolveTarget(c.connection)) },
      pool: c.pool,
      storage: Object.fromEntries(
        Object.entries(c.storage).map(([name, spec]) => [
          name,
          'dir' in spec
            ? { type: 'local', dir: spec.dir }
            : { type: spec.type, ...(c.storageOptions[name] as object) },
        ]),
      ),
      retention: c.retention,
      schedules: c.schedules,
      pipelines: c.pipelines,
      plugins: c.plugins.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        options: c.pluginOptions[p.namespace],
      })),
      notify: c.notify,
      tasks: [...c.tasks.keys()],
    }
    // Keys that look secret are redacted; a secret's value anywhere else (a plugin option
    // holding the webhook URL under another name) is scrubbed from the text as well.
    const text = scrub(JSON.stringify(redact(view), null, 2), collectSecrets(c))
    out(globals.json ? text : text.replace(/"([^"]+)":/g, '$1:'))
    return 0
  } finally {
    await session.close()
  }
}
