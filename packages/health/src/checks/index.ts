import type { CheckDefinition } from '../types.ts'
import {
  blockedQueriesCheck,
  connectionsCheck,
  idleInTransactionCheck,
  longQueriesCheck,
  longTransactionsCheck,
  preparedTransactionsCheck,
} from './activity.ts'
import { amcheckCheck } from './amcheck.ts'
import { backupFreshnessCheck } from './backups.ts'
import { indexBloatCheck, tableBloatCheck } from './bloat.ts'
import { connectionCheck, versionCheck } from './connection.ts'
import { disabledTriggersCheck, notValidConstraintsCheck } from './constraints.ts'
import { cacheHitRatioCheck, deadlocksCheck, rollbackRatioCheck } from './database-stats.ts'
import { fkWithoutIndexCheck } from './foreign-key-indexes.ts'
import { seqScansCheck, unusedIndexesCheck } from './index-usage.ts'
import { invalidIndexesCheck } from './invalid-indexes.ts'
import { poolCheck } from './pool.ts'
import { duplicateIndexesCheck } from './redundant-indexes.ts'
import {
  archiverCheck,
  replicationLagCheck,
  replicationSlotsCheck,
  standbyLagCheck,
} from './replication.ts'
import { sequencesCheck } from './sequences.ts'
import { slowQueriesCheck } from './statements.ts'
import { analyzeCheck, vacuumCheck } from './vacuum.ts'
import { mxidWraparoundCheck, xidWraparoundCheck } from './wraparound.ts'

export const CONNECTION_CHECK_ID = 'connection'

/** Every check, in report order: availability first, then sessions, safety, schema, maintenance, replication. */
export const CATALOG: CheckDefinition[] = [
  connectionCheck,
  versionCheck,
  connectionsCheck,
  idleInTransactionCheck,
  longQueriesCheck,
  longTransactionsCheck,
  blockedQueriesCheck,
  preparedTransactionsCheck,
  xidWraparoundCheck,
  mxidWraparoundCheck,
  sequencesCheck,
  replicationLagCheck,
  standbyLagCheck,
  replicationSlotsCheck,
  archiverCheck,
  cacheHitRatioCheck,
  rollbackRatioCheck,
  deadlocksCheck,
  invalidIndexesCheck,
  notValidConstraintsCheck,
  disabledTriggersCheck,
  duplicateIndexesCheck,
  unusedIndexesCheck,
  fkWithoutIndexCheck,
  seqScansCheck,
  indexBloatCheck,
  tableBloatCheck,
  vacuumCheck,
  analyzeCheck,
  slowQueriesCheck,
  amcheckCheck,
  poolCheck,
  backupFreshnessCheck,
]

export const CHECK_IDS = CATALOG.map((c) => c.id)
