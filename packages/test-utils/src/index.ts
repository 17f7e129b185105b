// The harness of the tests and benches: a throwaway PostgreSQL, an S3 server, the CLI as a
// process, work directories, and the fixtures more than one package's tests share.
export * from './big-migration.ts'
export * from './bloat-fixtures.ts'
export * from './cli.ts'
export * from './packs.ts'
export * from './postgres.ts'
export * from './s3.ts'
export * from './s3-proxy.ts'
export * from './s3-sink.ts'
export * from './workdir.ts'
