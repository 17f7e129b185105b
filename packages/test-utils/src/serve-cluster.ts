/**
 * Starts a throwaway cluster and keeps it up until killed, printing its port: for trying
 * the CLI by hand and for helpers' quick checks. `node --import tsx packages/test-utils/src/serve-cluster.ts`
 */
import { startCluster } from './postgres.ts'

const cluster = await startCluster()
process.stdout.write(`${JSON.stringify({ port: cluster.port, url: cluster.url('postgres') })}\n`)
const stop = () => void cluster.stop().then(() => process.exit(0))
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
setInterval(() => {}, 1 << 30)
