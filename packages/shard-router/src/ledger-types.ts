// Public types of the Ledger API (shard-router's front door).

import type {
  AccountView,
  BackupInfo,
  CommandStatus,
  Durability,
  EngineInfo,
  HistoryEntry,
  SnapshotInfo,
  TransferRecord,
  Violation,
} from '@shardledger/ledger-core';
import type { ReplicationOptions } from './replication/replication-options.js';

export interface LedgerOptions {
  /** The data dir. Created (with its manifest) when missing or empty. */
  readonly dir: string;
  /** Shards, fixed when the dir is created (default: 1, the count measured fastest for account
   * pairs drawn from all accounts; shard-count.ts). On reopen it may be omitted; a different value
   * throws SHARD_COUNT_MISMATCH. */
  readonly shards?: number;
  /** 'strict' (default): every call resolves after fsync. 'relaxed': after commit (on LMDB the
   * same point: a commit is synced before it is visible).
   * 'replicated' (the default with `replication`, and only with it): after commit and once a
   * quorum of the shard's stream on the NATS cluster holds it. */
  readonly durability?: Durability;
  /** The NATS JetStream cluster each shard's log is replicated to (docs/operations.md,
   * "Replication"). A new or empty dir is restored from it before the ledger serves. */
  readonly replication?: ReplicationOptions;
  /** Snapshot each shard after this many events (default 1,000,000). */
  readonly snapshotIntervalEvents?: number;
  /** Or after this many ms with new events (default 60,000; 0 disables). */
  readonly snapshotIntervalMs?: number;
  /** Keep the per-account history index (account history, balance as of). Default true. */
  readonly accountHistory?: boolean;
  /** 'ledger' (default): a transfer id is unique across the whole ledger; the router checks ids
   * that are not above every id before (retries, out-of-order or random ids) on the shards that
   * are not their home, and a call with such an id waits for that lookup (see
   * docs/architecture.md, "Transfer ids across shards"). 'shard': only the shards a transfer
   * touches check its id, as before that check existed: an id reused between accounts of other
   * shards is applied as a new transfer. For applications whose ids cannot cross accounts (an id
   * derived from the debit account, say) and that mix many retries into large calls. */
  readonly transferIdScope?: 'ledger' | 'shard';
  /** How long one cross-shard saga step may take before the call rejects with TIMEOUT (default
   * limits.sagaStepTimeoutMs, 30,000; 1 to 3,600,000). The saga is then settled in the background
   * from what the shards recorded, and a retry with the same ids returns its final outcome. */
  readonly sagaStepTimeoutMs?: number;
  /** The young generation of each shard worker's heap, in MB (1 to 1,024): where the objects of
   * one request live and die. V8's default grows it to 32 MB in a worker that reads or writes
   * hard, and keeps it at that size while the worker idles. A bound keeps that memory for the
   * rest of the process (a reconciliation reading a million transfers: docs/reconciliation.md,
   * "Performance"), at the cost of more frequent collections in the worker. */
  readonly shardYoungGenerationMb?: number;
  /** Failpoints armed in every shard worker before it opens ("name=action@N,..."); tests only. */
  readonly failpoints?: string;
}

export interface AccountResult {
  readonly id: string;
  readonly status: CommandStatus;
}

export interface TransferResult {
  readonly id: string;
  /** 'ok', 'exists', or a rejection status such as 'insufficient_funds'. */
  readonly status: CommandStatus;
}

/** An account with its balances (all amounts in minor units, bigint) and its currency's `scale`,
 * the decimal places of a minor unit: formatAmount(account.balance, account.scale). */
export type Account = AccountView;

/** What every paged list takes (Ledger.listAccounts, Ledger.accountHistory, ReadModel.listAccounts,
 * ReadModel.statement, ReadModel.transfersByMetadata). */
export interface PageOptions {
  /** The cursor: the `next` of the page before, an opaque string. Absent or null: the first
   * page. A string that is no cursor of this list is refused with INVALID_ARGUMENT. */
  readonly after?: string | null;
  /** At most this many items: 1 to limits.pageSizeMax; default pageSizeDefault (100). */
  readonly limit?: number;
}

/** listAccounts' options. Accounts come in id order (JavaScript string order). */
export interface ListAccountsOptions extends PageOptions {
  /** Only accounts in this currency. */
  readonly currency?: string | null;
}

/** A page of listAccounts. Every page of every list has its items and `next`. */
export interface AccountPage {
  readonly accounts: readonly Account[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: string | null;
}

/** A page of Ledger.accountHistory: postings in the order the account's shard logged them. */
export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  /** Pass as `after` for the next page; null when this page is the last. */
  readonly next: string | null;
}

/** A moment of the past for balanceAsOf: after event `sequence` of the account's shard, or at
 * `timestamp` (ns since the epoch, inclusive); the earlier of the two when both are given, now
 * when neither is. */
export interface AsOf {
  readonly sequence?: number;
  readonly timestamp?: bigint;
}

/** A transfer as the ledger remembers it. */
export type Transfer = Omit<TransferRecord, 'sagaId' | 'resolvedBy'> & {
  readonly crossShard: boolean;
};

export interface VerifyResult {
  readonly ok: boolean;
  readonly violations: readonly (Violation & { readonly shard: number | null })[];
  readonly eventsReplayed: number;
}

export interface LedgerInfo {
  readonly dir: string;
  /** Which ledger this is: the manifest's random ledgerId (a dir created before ledger ids
   * existed: `created <its creation time>`). */
  readonly ledgerId: string;
  readonly shards: number;
  readonly partitionCount: number;
  readonly hash: string;
  readonly durability: Durability;
  readonly shardInfo: readonly EngineInfo[];
  readonly recovery: { readonly sagasCommitted: number; readonly sagasReleased: number };
}

/** What Ledger.backup copied. */
export interface BackupResult {
  /** The backup: a data dir that Ledger.open (or any shardledger command's --dir) opens. */
  readonly dir: string;
  /** The cut, per shard in shard order: the copy holds exactly that shard's events 1 to this
   * sequence. The cuts were taken together, while no message was in flight between shards. */
  readonly cut: readonly number[];
  /** Per shard, in shard order: its cut again (sequenceAtLeast), the size of the copied log and
   * the snapshots copied with it. */
  readonly shards: readonly BackupInfo[];
  readonly ms: number;
}

export type { BackupInfo, HistoryEntry, SnapshotInfo };
