// The contract of one shard's storage engine (ShardEngine in shard-engine.ts). The shard worker in
// shard-router wraps exactly this; tests use it directly on real temp dirs.

import type { ShardIdentityExpectation } from './shard-identity.js';
import type { RecordReplica } from './replication-hooks.js';
import type { RejectionStatus } from '../errors.js';
import type {
  AccountStatus,
  Command,
  LedgerEvent,
  Metadata,
  SagaOutcome,
  TransferRecord,
} from '../domain/types.js';
import type { ReservationState } from '../domain/state.js';
import type { Violation } from '../domain/audit.js';

/** strict: every group commit is fsynced before its calls resolve (default).
 * relaxed: calls resolve once committed to LMDB (visible, crash-safe for the process), and the
 * OS flushes soon after; a power loss may drop the last moments of commits, never corrupts.
 * replicated: calls resolve once committed to LMDB (as relaxed) and acknowledged by a quorum of
 * the shard's replicated log (ShardEngineOptions.replica): a lost machine loses nothing
 * acknowledged, and a new dir is restored from that log. */
export type Durability = 'strict' | 'relaxed' | 'replicated';

export interface ShardEngineOptions {
  /** The shard's own directory; created if missing. One LMDB environment per directory. */
  readonly dir: string;
  readonly durability?: Durability;
  /** Where a `replicated` shard's records also go (replication-hooks.ts); required exactly for
   * that mode. */
  readonly replica?: RecordReplica;
  /** Take a snapshot after this many events since the last one (default limits.snapshotIntervalEvents). */
  readonly snapshotIntervalEvents?: number;
  /** Or after this many ms with new events (default limits.snapshotIntervalMs). 0 disables. */
  readonly snapshotIntervalMs?: number;
  /** Index the postings of accounts created with the `history` flag (default true). When false,
   * no account is indexed and history/balance-as-of always scan the log. */
  readonly accountHistory?: boolean;
  /** LMDB map size in bytes (default 64 GiB of address space; the file grows as needed). */
  readonly mapSizeBytes?: number;
  /** Nanosecond clock; defaults to wall time. Tests pass their own. */
  readonly clock?: () => bigint;
  /** For fault-injection tests: consulted once per commit; an error it returns fails that
   * commit as a failed write transaction would, before anything is written. */
  readonly commitFault?: () => Error | undefined;
  /** Which shard of which ledger the dir must be (shard-identity.ts). Without it (engine-level
   * tools and tests) no identity is checked or written. */
  readonly identity?: ShardIdentityExpectation;
}

export type CommandStatus = 'ok' | 'exists' | RejectionStatus;

/** One result per submitted command, in order. */
export interface CommandResult {
  readonly status: CommandStatus;
  /** For groups and reservations: the status of each member. */
  readonly statuses?: readonly CommandStatus[];
  /** Timestamp of the first event written (ok only). */
  readonly timestamp?: bigint;
  /** Sequence number of the last event written (ok only). */
  readonly sequence?: number;
}

export interface AccountView {
  readonly id: string;
  readonly currency: string;
  /** Decimal places of the currency's minor unit: formatAmount(balance, scale) prints it. */
  readonly scale: number;
  readonly debitsMustNotExceedCredits: boolean;
  readonly creditsMustNotExceedDebits: boolean;
  /** Postings are indexed for fast history and balance-as-of. */
  readonly history: boolean;
  /** 'open', 'frozen' (no new transfers until unfrozen) or 'closed' (for good). */
  readonly status: AccountStatus;
  readonly metadata: Metadata | null;
  readonly timestamp: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
  /** creditsPosted - debitsPosted (may be negative for a debit-normal account). */
  readonly balance: bigint;
  /** balance - debitsPending. */
  readonly available: bigint;
}

export interface HistoryEntry {
  readonly sequence: number;
  readonly timestamp: bigint;
  readonly transferId: string;
  readonly eventType: LedgerEvent['type'];
  /** The account's counters right after this posting. */
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

export interface HistoryOptions {
  readonly afterSequence?: number;
  /** With afterSequence: that sequence's postings up to this one (0 for its first) were handed
   * out already; a saga step may post several legs of an atomic group to one account. Absent: all
   * of them. */
  readonly afterLeg?: number;
  readonly limit?: number;
  /** 'events' (default): each saga step this shard logged is an entry of its own. 'transfers':
   * as one shard lists it (what the sharded Ledger asks for): a transfer between shards once,
   * as created, when its saga commits, and not at all when the saga was released; a hold as
   * created, then posted, voided or expired. */
  readonly sagaSteps?: 'events' | 'transfers';
}

export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  /** Pass as `afterSequence` to get the next page; null when there is none. */
  readonly nextAfterSequence: number | null;
  /** Pass as `afterLeg` with it: non-null when the page ended between two postings of one saga
   * step. */
  readonly nextAfterLeg: number | null;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly eventsReplayed: number;
}

export interface SnapshotInfo {
  readonly sequence: number;
  readonly file: string;
  readonly sizeBytes: number;
  /** How long writes were stopped while the state was serialised. */
  readonly pauseMs: number;
}

/** What ShardEngine.backup copied. */
export interface BackupInfo {
  readonly dir: string;
  /** The cut: the copy holds exactly the events through this sequence (every event committed
   * before the cut, none after). */
  readonly sequenceAtLeast: number;
  readonly logSizeBytes: number;
  readonly snapshots: number;
  readonly ms: number;
}

/** A backup begun (ShardEngine.beginBackup): its cut is taken, its copy goes on. */
export interface BackupCut {
  /** The last sequence in the copy. */
  readonly sequence: number;
  /** Settles once the copy is complete and durable. */
  readonly done: Promise<BackupInfo>;
}

/** Per-currency sums over a shard's accounts, and what crossed shards (saga legs). */
export interface CurrencyTotalsView {
  readonly currency: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
  /** Committed saga legs: debit sides and credit sides posted on this shard. */
  readonly sagaDebitsPosted: bigint;
  readonly sagaCreditsPosted: bigint;
  /** Open reservations (saga legs not yet committed or released). */
  readonly reservedDebits: bigint;
  readonly reservedCredits: bigint;
}

export interface EngineInfo {
  readonly dir: string;
  readonly totals: readonly CurrencyTotalsView[];
  readonly lastSequence: number;
  readonly lastTimestamp: bigint;
  readonly accounts: number;
  readonly pendingOpen: number;
  /** Sagas in flight: reservations that are not cross-shard holds. */
  readonly reservationsOpen: number;
  /** Cross-shard holds open on this shard (pending transfers whose other side is on another
   * shard), the saga reservations that stay open until posted, voided or expired. */
  readonly holdsOpen: number;
  readonly logSizeBytes: number;
  readonly snapshots: readonly { sequence: number; sizeBytes: number }[];
  readonly recoveredFromSnapshot: number | null;
  /** Whether the open made its id filters from that snapshot (true), or read every id the id
   * and saga indexes hold (false: no snapshot, or one from a build whose snapshots lack them). */
  readonly idFiltersFromSnapshot: boolean;
  readonly recoveryMs: number;
  /** The greatest transfer id stored, staged or reserved on this shard, or null once it has seen a
   * non-ASCII id (LMDB orders keys by their bytes, which then differs from JavaScript's string
   * order). '' when it holds none. Any id above it is new on this shard. */
  readonly transferIdMax: string | null;
  /** Sorted runs of random-id transfers a lookup of such an id may ask (scattered-runs.ts). */
  readonly scatteredRuns: number;
  /** Transfers in the merge of those runs in progress, 0 when none: a merge is made a step per
   * commit, and its run replaces its inputs once its last step is committed. */
  readonly scatteredMergeEntries: number;
}

export interface SequencedEvent {
  readonly sequence: number;
  readonly event: LedgerEvent;
}

export interface ShardEngineApi {
  /** Decides and applies the commands in order, appends their events in one group commit, and
   * resolves once they are durable (per the durability mode). Throws LedgerError on misuse or
   * I/O failure; after an I/O failure the engine is closed and must be reopened (recovery). */
  submit(commands: readonly Command[]): Promise<CommandResult[]>;
  // Reads resolve only once everything they observed is durable: a reader never sees a change
  // that a crash could still undo.
  lookupAccounts(ids: readonly string[]): Promise<(AccountView | undefined)[]>;
  lookupTransfers(ids: readonly string[]): Promise<(TransferRecord | undefined)[]>;
  /** 1 at the index of each id that names an open pending transfer of this shard, else 0. */
  openHolds(ids: readonly string[]): Promise<Uint8Array>;
  sagaOutcome(sagaId: string): Promise<SagaOutcome | undefined>;
  /** The saga's open reservation on this shard (its legs), or undefined. */
  reservation(sagaId: string): Promise<ReservationState | undefined>;
  openReservations(): Promise<ReservationState[]>;
  accountHistory(accountId: string, options?: HistoryOptions): Promise<HistoryPage>;
  balanceAsOf(
    accountId: string,
    at: { sequence?: number; timestamp?: bigint },
  ): Promise<AccountView | undefined>;
  /** Events with sequence > afterSequence, at most `limit` (durable events only). */
  readEvents(afterSequence: number, limit: number): Promise<SequencedEvent[]>;
  /** The encoded log records holding the events after `afterSequence` (about `limitEvents` of
   * them, whole records), for a reader that decodes on its own thread (decodeEventRecord). */
  readRecords(afterSequence: number, limitEvents: number): Promise<Uint8Array[]>;
  /** Rebuilds state from event 1 and compares it with the live state, counter by counter. */
  verify(): Promise<VerifyReport>;
  snapshot(): Promise<SnapshotInfo>;
  /** Copies the log (a consistent LMDB copy, taken while writes go on) and the snapshots into
   * `dir`, which must not exist yet. Opening the copy is recovery after a crash. */
  backup(dir: string): Promise<BackupInfo>;
  /** backup() in two steps: resolves once the copy's read transaction is open (the cut: every
   * write answered before the call is in it, nothing decided after it), with the copy going on
   * in the background. The router cuts every shard while no message is in flight between them. */
  beginBackup(dir: string): Promise<BackupCut>;
  info(): EngineInfo;
  close(): Promise<void>;
}
