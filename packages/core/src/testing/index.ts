// `dbops/testing`: a throwaway PostgreSQL for a plugin's or a team's tests, and in-process
// runs of tasks and pipelines against a config.
export {
  createTestDatabase,
  startCluster,
  useCluster,
  pgBinDir,
  freePort,
  type TestCluster,
  type TestDatabase,
} from './postgres.ts'
export { runPipeline, runTask, type TestRunOptions, type TestRunResult } from './run.ts'
export type { RunReport, StepReport, StepStatus } from '../runner/report.ts'
