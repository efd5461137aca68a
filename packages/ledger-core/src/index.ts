// @shardledger/ledger-core: one shard of the ledger, correct, durable and fast on its own.
export * from './errors.js';
export * from './limits.js';
export * from './assert.js';
export * from './domain/index.js';
export * from './storage/engine-types.js';
export { ShardEngine } from './storage/shard-engine.js';
export { accountView } from './storage/account-view.js';
export { shardFormatVersion } from './storage/engine-recovery.js';
export { corruptionOf } from './storage/corruption.js';
export { SnapshotStore } from './storage/snapshot-store.js';
export type {
  ShardIdentity,
  ShardIdentityExpectation,
  ShardIdentityProblem,
} from './storage/shard-identity.js';
export { syncDir, writeFileAtomic } from './storage/durable-files.js';
export { decodeEventRecord, encodeEventRecord, type EventRecord } from './storage/event-record.js';
export {
  CommandBatchBuilder,
  encodeCommandBatch,
  decodeCommandBatch,
  encodeResultBatch,
  decodeResultBatch,
  ResultBatchView,
} from './storage/batch-codec.js';
export {
  plainTransferSpec,
  readPlainTransfer,
  type PlainTransferFields,
} from './storage/transfer-columns.js';
