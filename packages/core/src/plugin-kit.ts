// `dbops/plugin`: the kit plugin authors build on. Everything here is one module instance
// with the CLI's (a plugin's DbopsError is the CLI's DbopsError), so keep it a re-export.
export { definePlugin, defineStorage } from './plugin/define.ts'
export type {
  Task,
  TaskIO,
  Command,
  CommandContext,
  InputOf,
  PluginApi,
  PluginInstance,
  PluginParts,
} from './plugin/types.ts'
export type { Context } from './context.ts'
export type {
  CoreConfig,
  ConnectionConfig,
  PoolConfig,
  RetentionPolicy,
  ScheduleConfig,
  Step,
} from './config/schema.ts'
export type { ResolvedConfig, RegisteredTask } from './config/resolve.ts'
export { isTimeZone } from './config/schema.ts'
export { closest } from './config/closest.ts'
export { Db, cancelBackend, type Queryable, type PoolStats, type QueryOptions } from './db/db.ts'
export { describeTarget, resolveTarget, type ConnectionTarget } from './db/connection.ts'
export { lockKey, sleep, type LockOptions } from './db/lock.ts'
export {
  takeAdvisoryLock,
  POOLER_HINT,
  type LockConnection,
  type LockErrors,
  type LockHolder,
  type HeldLock,
  type TakeLockOptions,
} from './db/lock.ts'
export type { DbSession, SessionOptions, SessionTimeouts } from './db/session.ts'
export { quoteIdent } from './db/quote.ts'
export { DbopsError, ConfigError, UsageError, ExitCode, isAbortError, messageOf } from './errors.ts'
export { redact, redactUrl, scrub, isSecretKey, collectSecrets, REDACTED } from './secrets.ts'
export type { Logger } from './logger.ts'
export type {
  Storage,
  StorageSpec,
  ObjectInfo,
  PutOptions,
  PutResult,
  StorageRegistry,
} from './storage/types.ts'
export { localStorage } from './storage/local.ts'
export { measuringStream, type Measured, type MeasuringStream } from './storage/measure.ts'
export {
  backupManifestSchema,
  backupSetPrefix,
  newBackupId,
  isVerified,
  MANIFEST_FILE,
  type BackupManifest,
  type BackupObject,
} from './backup-set/manifest.ts'
export {
  listBackupSets,
  readManifest,
  newestFirst,
  type BackupSet,
  type DamagedSet,
  type UnreadableSet,
  type ListedSets,
} from './backup-set/list.ts'
export {
  decideRetention,
  type RetentionDecision,
  type RetentionCandidate,
} from './retention/decide.ts'
export { applyRetention, deleteSet } from './retention/apply.ts'
export { parseDuration } from './duration.ts'
export { durationSchema } from './config/duration-schema.ts'
// Commands: declared (flags, arguments), parsed and helped by the CLI; run in-process by name.
export { defineCommand } from './cli/declaration/define.ts'
export { invokeCommand } from './cli/declaration/invoke.ts'
export type {
  ArgSpec,
  ArgSpecs,
  BooleanFlag,
  CommandInput,
  DurationFlag,
  FlagSpec,
  FlagSpecs,
  NumberFlag,
  StringFlag,
} from './cli/declaration/types.ts'
// The one btree bloat estimate (deduplication-aware): reindex plans on it, health reports it.
export {
  USER_SCHEMAS,
  userSchemas,
  STALE_FRACTION,
  STATS_FROM_PG_STATISTIC,
  STATS_FROM_PG_STATS,
  listIndexesSql,
  estimateIndex,
  fillfactorOf,
  deduplicates,
  MIN_ROWS_PER_KEY,
  type IndexRow,
  type IndexEstimate,
  type BloatFigures,
  type Distrust,
} from './catalog/index-bloat.ts'
export {
  estimateIndexBloat,
  measuredIndexBloat,
  distrustReason,
  tupleBytesOf,
  type EstimateInput,
  type PgstatindexRow,
} from './catalog/btree-bloat.ts'
export type { HttpSurface, HttpSurfaceEnv, HttpHandler } from './plugin/http.ts'
export { sparkline, bar, drawsPictures } from './cli/sparkline.ts'
export { formatBytes, formatDuration } from './format.ts'
export { dbopsVersion } from './version.ts'
export type { RecordedStep } from './scheduler/run-steps.ts'
/** The columns of a `dbops.runs` row as `dbops runs` reads it (an expired lease reads as lost). */
export { RUN_COLUMNS } from './scheduler/run-columns.ts'
