// @shardledger/ledger-core: one shard of the ledger, correct, durable and fast on its own.
// This door is what an application uses: ShardEngine, the inputs it is given and the records it
// returns, the parsers that turn inputs into commands, and the error catalogue. What the sibling
// packages share beyond that lives behind `./internals`; test aids behind `./testing`.
export { ShardEngine } from './storage/shard-engine.js';
export type { RecordReplica } from './storage/replication-hooks.js';
export type {
  AccountView,
  BackupInfo,
  CommandResult,
  CommandStatus,
  CurrencyTotalsView,
  Durability,
  EngineInfo,
  HistoryEntry,
  HistoryOptions,
  HistoryPage,
  SequencedEvent,
  ShardEngineOptions,
  SnapshotInfo,
  VerifyReport,
} from './storage/engine-types.js';
export {
  LedgerError,
  isLedgerError,
  errorCatalogue,
  type ErrorCode,
  type ErrorDetail,
  type ErrorKind,
  type RejectionCode,
  type RejectionStatus,
} from './errors.js';
export { limits } from './limits.js';
export { currencyScale, formatAmount, parseAmount, type ParseAmountOptions } from './currency.js';
export {
  parseAccount,
  parseResolution,
  parseTransfer,
  type AccountInput,
  type AmountInput,
  type Parsed,
  type PostPendingInput,
  type TransferInput,
  type VoidPendingInput,
} from './domain/validate.js';
export {
  accountFlags,
  type AccountClosed,
  type AccountCreated,
  type AccountFrozen,
  type AccountStatus,
  type AccountUnfrozen,
  type AccountSpec,
  type Command,
  type CommandType,
  type EventType,
  type FundsReserved,
  type HoldResolution,
  type LedgerEvent,
  type Metadata,
  type PendingResolutionSpec,
  type PendingTransferExpired,
  type PendingTransferPosted,
  type PendingTransferVoided,
  type ReservationCommitted,
  type ReservationLeg,
  type ReservationReleased,
  type SagaOutcome,
  type TransferCreated,
  type TransferRecord,
  type TransferSpec,
} from './domain/types.js';
export type { ReservationState } from './domain/state.js';
export type { Violation } from './domain/audit.js';
