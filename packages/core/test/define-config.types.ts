// Type-level tests, checked by `pnpm typecheck`: a pipeline naming a task that no plugin
// provides, or a pipeline that does not exist, must not compile.
import { z } from 'zod'
import { defineConfig, definePlugin } from '../src/index.ts'

const archive = definePlugin({
  name: 'acme-archive',
  namespace: 'archive',
  options: z.object({ olderThanDays: z.number().default(90) }),
  setup: (options) => ({
    tasks: { events: { title: 'archive events', run: async () => options.olderThanDays } },
  }),
})

export const valid = defineConfig({
  connection: { url: 'postgres://localhost/app' },
  plugins: [archive()],
  pipelines: {
    nightly: ['archive:events', 'retention:apply'],
    all: ['nightly', { parallel: ['archive:events'] }, { task: 'nightly', continueOnError: true }],
  },
})

export const asFunction = defineConfig(({ dryRun }) => ({
  connection: { url: 'postgres://localhost/app' },
  plugins: [archive({ olderThanDays: dryRun ? 1 : 90 })],
  pipelines: { nightly: ['archive:events'] },
}))

// @ts-expect-error 'archive:evnts' is not a task of any plugin
export const misspelledTask = defineConfig({
  connection: { url: 'postgres://localhost/app' },
  plugins: [archive()],
  pipelines: { nightly: ['archive:evnts'] },
})

// @ts-expect-error 'weekly' is not a pipeline
export const unknownPipeline = defineConfig({
  connection: { url: 'postgres://localhost/app' },
  plugins: [archive()],
  pipelines: { nightly: [{ task: 'weekly' }] },
})

// @ts-expect-error olderThanDays must be a number
archive({ olderThanDays: 'ninety' })
