// One copy of the throwaway PostgreSQL: core's `dbops/testing` module. The harness takes it
// from the sources so `pnpm test:only` never depends on a stale build.
export * from '../../packages/core/src/testing/postgres.ts'
