// @shardledger/shard-router: the Ledger an application imports, its read model, and the errors,
// limits and input types of ledger-core it speaks. Placement, manifest and shard-client
// internals are behind `./internals`; the failpoints for crash tests behind `./testing`.
export { Ledger } from './ledger.js';
export { pageSizeDefault } from './page.js';
export type {
  Account,
  AccountPage,
  AccountResult,
  AsOf,
  BackupInfo,
  BackupResult,
  HistoryEntry,
  HistoryPage,
  LedgerInfo,
  LedgerOptions,
  ListAccountsOptions,
  PageOptions,
  SnapshotInfo,
  Transfer,
  TransferResult,
  VerifyResult,
} from './ledger-types.js';
export {
  LedgerError,
  isLedgerError,
  errorCatalogue,
  limits,
  currencyScale,
  formatAmount,
  parseAmount,
  type ParseAmountOptions,
  type AccountInput,
  type TransferInput,
  type PostPendingInput,
  type VoidPendingInput,
  type ErrorCode,
  type AccountStatus,
  type CommandStatus,
  type Durability,
} from '@shardledger/ledger-core';
export type { ReplicationOptions } from './replication/replication-options.js';
export { replicationStatus } from './replication/status-entry.js';
export type { ReplicationStatus } from './replication/replication-status.js';
export type { LeaseHolder } from './replication/replication-options.js';
export type { StreamState } from './replication/replication-options.js';
export type { LagSource, LedgerMetrics, ReadModelLag, ShardMetrics } from './metrics.js';
export type { SagaCounts, TransferCounts } from './metrics-tally.js';
export type { ChangeFeed } from './feed/change-feed.js';
export type {
  AccountBalance,
  ChangeEvent,
  ChangesOptions,
  LedgerEvent,
} from './feed/change-types.js';
export * from './read-model/index.js';
