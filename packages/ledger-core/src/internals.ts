// `@shardledger/ledger-core/internals`: what the sibling packages (shard-router, bench, cli) share
// with the engine that is not an application's API: the pure core (decide, evolve, state), the
// wire and batch codecs between a shard worker and its client, the parse and validate helpers the
// router runs before it routes, and the file helpers. Applications use `.`; these may change with
// any release.
export { assert, assertNever } from './assert.js';
export { isCurrencyCode, scaleOfCode, storedScaleOf } from './currency.js';
export { errorFromWire, errorToWire, statusOf, type WireError } from './errors.js';
export { decide } from './domain/decide.js';
export { sameTransfer } from './domain/decision.js';
export { evolve } from './domain/evolve.js';
export { applyPlainTransfer } from './domain/plain-transfer.js';
export { AccountOrder, compareIds, SortedIds } from './domain/account-order.js';
export { closedChangeOf, holdResolutionRecordOf, transferRecordOf } from './domain/records.js';
export { expiresAtOf, holdLegOf, initialState, type LedgerState } from './domain/state.js';
export type { DecideContext } from './domain/types.js';
export {
  isRejected,
  isValidCurrency,
  isValidId,
  transferSpecOrRejection,
  type Rejected,
} from './domain/validate.js';
export { accountView } from './storage/account-view.js';
export {
  CommandBatchBuilder,
  decodeCommandBatch,
  decodeResultBatch,
  encodeCommandBatch,
  ResultBatchView,
} from './storage/batch-codec.js';
export { corruptionOf } from './storage/corruption.js';
export { readerPids } from './storage/reader-table.js';
export { syncDir, writeFileAtomic } from './storage/durable-files.js';
export {
  decodeEventRecord,
  readEventRecord,
  type EventRecordReader,
} from './storage/event-record.js';
export { IdFilter, type IdFilterSnapshot } from './storage/id-filter.js';
export { SnapshotStore } from './storage/snapshot-store.js';
export { readSnapshotBalances } from './storage/snapshot-balances.js';
export { LogRestorer, type LogTail } from './storage/log-restore.js';
export type { ShardIdentityExpectation } from './storage/shard-identity.js';
export {
  plainTransferSpec,
  readPlainTransfer,
  type PlainTransferFields,
} from './storage/transfer-columns.js';
