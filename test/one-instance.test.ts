// One instance of dbops in a CLI process: the config's plugins get the same dbops/plugin
// module the CLI itself runs (the built dist/, loaded once), not a copy of their own. A copy
// would mean a second zod, a second pool class and errors recognised only by their brand.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { makeWorkdir, runCli } from '@dbops/test-utils'

const PLUGIN = `import { definePlugin, Db } from 'dbops/plugin'
import { z } from 'zod'

export default definePlugin({
  name: 'instance-probe',
  namespace: 'probe',
  options: z.object({}),
  setup: () => ({
    tasks: {
      same: {
        title: 'compare with the CLI',
        // ctx.db was made by the CLI's Db class; Db has no brand, so instanceof tells copies apart.
        run: async (ctx) => ({ sameDb: ctx.db instanceof Db }),
      },
    },
  }),
})
`

test("a local plugin loaded by the config gets the CLI's own dbops/plugin module", async () => {
  const work = await makeWorkdir({
    'probe-plugin.ts': PLUGIN,
    'dbops.config.ts': `import { defineConfig } from 'dbops'\nimport probe from './probe-plugin.ts'\nexport default defineConfig({ connection: { url: 'postgres://nobody@127.0.0.1:1/none' }, storage: { local: { dir: './b' } }, plugins: [probe()], pipelines: { p: ['probe:same'] } })\n`,
  })
  try {
    const result = await runCli(['run', 'p', '--json'], { cwd: work.dir })
    assert.is(result.code, 0, result.stderr + result.stdout)
    assert.equal(JSON.parse(result.stdout).steps[0].result, { sameDb: true })
  } finally {
    await work.remove()
  }
})

test.run()
