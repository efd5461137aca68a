// @shardledger/shard-router: the Ledger an application imports.
export { Ledger } from './ledger.js';
export type {
  Account,
  AccountResult,
  BackupInfo,
  BackupResult,
  HistoryPage,
  LedgerInfo,
  LedgerOptions,
  SnapshotInfo,
  Transfer,
  TransferResult,
  VerifyResult,
} from './ledger-types.js';
export { PartitionMap, hashAccountId, partitionOf } from './partition.js';
export { readManifest, shardDir, type Manifest } from './manifest.js';
export {
  failpointNames,
  armFailpoint,
  disarmAllFailpoints,
  type FailpointOptions,
} from './failpoints.js';
export type { ShardClient } from './shard/shard-client.js';
export type { ShardRestartEvent } from './shard/worker-lifecycle.js';
export {
  LedgerError,
  isLedgerError,
  errorCatalogue,
  limits,
  type AccountInput,
  type TransferInput,
  type PostPendingInput,
  type VoidPendingInput,
  type ErrorCode,
  type CommandStatus,
  type Durability,
} from '@shardledger/ledger-core';
export * from './read-model/index.js';
