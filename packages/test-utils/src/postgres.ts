// One copy of the throwaway PostgreSQL: core's `dbops/testing` module, taken whole from its
// source (the harness also needs what the public entry leaves out: the test role's password,
// the cluster's OS user, `runPgProgram`).
export * from '../../core/src/testing/postgres.ts'
