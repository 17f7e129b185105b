import { defineConfig, env } from 'dbops'
import archive from './archive-plugin.ts'

export default defineConfig({
  connection: { url: env('DATABASE_URL') },
  pool: { max: 5 },
  plugins: [archive({ olderThanDays: 30, batchSize: 500 })],
  pipelines: {
    archive: ['archive:count', 'archive:events'],
    nightly: ['archive', 'retention:apply'],
  },
})
