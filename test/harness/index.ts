export * from './postgres.ts'
export * from './s3.ts'
export * from './cli.ts'
export * from './workdir.ts'
