// Commands, events and state of one shard: the vocabulary of the decider.
// Commands are imperative, events are past tense. "Pending" is the balance column
// of two-phase transfers; "reservation" is the cross-shard saga step.

import type { RejectionCode } from '../errors.js';

export type Metadata = Readonly<Record<string, string>>;

export const accountFlags = {
  debitsMustNotExceedCredits: 1,
  creditsMustNotExceedDebits: 2,
  /** Keep an on-disk index of this account's postings with its balances after each one (fast
   * history and balance-as-of), as TigerBeetle's `history` flag. Without it, history and
   * balance-as-of are answered by scanning the log: same answers, slower on a long log. */
  history: 4,
  /** Set by FreezeAccount, cleared by UnfreezeAccount: the account takes part in no new transfer
   * (on either side); open holds on it may still be voided or expire, not posted. */
  frozen: 8,
  /** Set by CloseAccount, for good: the account takes part in no transfer again. Only an account
   * whose posted balance and pending amounts are all zero is closed. */
  closed: 16,
} as const;

/** The flags that say an account's status (frozen, closed): kept in the state, set by their own
 * events, never part of an AccountSpec. */
export const accountStatusFlags: number = accountFlags.frozen | accountFlags.closed;

/** An account's status as reads report it: closed wins over frozen. */
export type AccountStatus = 'open' | 'frozen' | 'closed';

export function accountStatusOf(flags: number): AccountStatus {
  if ((flags & accountFlags.closed) !== 0) return 'closed';
  return (flags & accountFlags.frozen) !== 0 ? 'frozen' : 'open';
}

/** A validated account, as stored in events. */
export interface AccountSpec {
  readonly id: string;
  readonly currency: string;
  /** Decimal places of the currency's minor unit (currency.ts): from ISO 4217 for 'USD', from
   * the code for 'USDC/6'. Recorded when the account is created, so an account keeps its scale
   * whatever later runtimes say; accounts from older logs take it from their code. */
  readonly scale: number;
  /** Bit set of accountFlags (never the status flags: accountStatusFlags). */
  readonly flags: number;
  readonly metadata: Metadata | null;
}

/** A validated transfer, as stored in events. */
export interface TransferSpec {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  /** Two-phase: the amount goes to the pending columns until posted, voided or expired. */
  readonly pending: boolean;
  /** For a pending transfer: void automatically this many ms after its timestamp; 0 = never. */
  readonly timeoutMs: number;
  readonly metadata: Metadata | null;
}

/** Resolves an open pending transfer. `amount` null posts the full pending amount. */
export interface PendingResolutionSpec {
  readonly id: string;
  readonly pendingId: string;
  readonly amount: bigint | null;
  readonly metadata: Metadata | null;
}

/** One side of a cross-shard transfer, held by the shard that owns that side's account. */
export interface ReservationLeg {
  readonly side: 'debit' | 'credit';
  readonly transfer: TransferSpec;
}

export type Command =
  | { readonly type: 'CreateAccount'; readonly account: AccountSpec }
  | { readonly type: 'FreezeAccount'; readonly accountId: string }
  | { readonly type: 'UnfreezeAccount'; readonly accountId: string }
  | { readonly type: 'CloseAccount'; readonly accountId: string }
  | { readonly type: 'CreateTransfer'; readonly transfer: TransferSpec }
  | { readonly type: 'CreateTransferGroup'; readonly transfers: readonly TransferSpec[] }
  | { readonly type: 'PostPendingTransfer'; readonly resolution: PendingResolutionSpec }
  | { readonly type: 'VoidPendingTransfer'; readonly resolution: PendingResolutionSpec }
  | { readonly type: 'ExpirePendingTransfers' }
  | {
      readonly type: 'ReserveFunds';
      readonly sagaId: string;
      /** Every shard taking part in the saga, so that recovery can ask each of them. */
      readonly participants: readonly number[];
      readonly legs: readonly ReservationLeg[];
    }
  | {
      readonly type: 'CommitReservation';
      readonly sagaId: string;
      /** A cross-shard hold (its legs are pending) posted: on the debit shard, which decides, the
       * post itself (its id, amount or null for all, metadata); refused as a single shard would. */
      readonly resolution?: PendingResolutionSpec;
      /** On the credit shard: the amount the debit shard posted (absent: all of it). */
      readonly amount?: bigint;
      /** On the credit shard: the post its debit shard decided, recorded here too so that the
       * post reads as on one shard (its entries, and its time: when both shards hold it). */
      readonly follows?: HoldResolution;
    }
  | {
      readonly type: 'ReleaseReservation';
      readonly sagaId: string;
      /** 'refused' or 'recovery' for a saga in flight; 'voided' or 'expired' for a cross-shard hold. */
      readonly reason: string;
      /** A cross-shard hold voided: on the debit shard, the void itself (id, metadata). */
      readonly resolution?: PendingResolutionSpec;
      /** On the credit shard: the void its debit shard decided (as CommitReservation.follows). */
      readonly follows?: HoldResolution;
    };

export type CommandType = Command['type'];

interface EventBase {
  /** Engine time in nanoseconds since the Unix epoch; strictly increasing within a shard. */
  readonly timestamp: bigint;
}

export interface AccountCreated extends EventBase {
  readonly type: 'AccountCreated';
  readonly account: AccountSpec;
}
/** The status of an account changed: frozen, unfrozen or closed (accountFlags). */
interface AccountStatusChanged extends EventBase {
  readonly accountId: string;
}
export interface AccountFrozen extends AccountStatusChanged {
  readonly type: 'AccountFrozen';
}
export interface AccountUnfrozen extends AccountStatusChanged {
  readonly type: 'AccountUnfrozen';
}
export interface AccountClosed extends AccountStatusChanged {
  readonly type: 'AccountClosed';
}
export interface TransferCreated extends EventBase {
  readonly type: 'TransferCreated';
  readonly transfer: TransferSpec;
}
interface PendingResolved extends EventBase {
  readonly id: string;
  readonly pendingId: string;
  readonly amount: bigint;
  readonly pendingAmount: bigint;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly currency: string;
  readonly metadata: Metadata | null;
}
export interface PendingTransferPosted extends PendingResolved {
  readonly type: 'PendingTransferPosted';
}
export interface PendingTransferVoided extends PendingResolved {
  readonly type: 'PendingTransferVoided';
}
export interface PendingTransferExpired extends EventBase {
  readonly type: 'PendingTransferExpired';
  readonly pendingId: string;
  readonly amount: bigint;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly currency: string;
}
export interface FundsReserved extends EventBase {
  readonly type: 'FundsReserved';
  readonly sagaId: string;
  readonly participants: readonly number[];
  readonly legs: readonly ReservationLeg[];
}
/** The post or void of a cross-shard hold, recorded by the shard that decided it (the debit
 * side's) and by the one that follows: its own transfer id and metadata; the hold is the event's
 * leg. */
export interface HoldResolution {
  readonly id: string;
  readonly metadata: Metadata | null;
}
export interface ReservationCommitted extends EventBase {
  readonly type: 'ReservationCommitted';
  readonly sagaId: string;
  readonly legs: readonly ReservationLeg[];
  /** A cross-shard hold posted for less than it held: the amount posted (absent: all of it). */
  readonly amount?: bigint;
  readonly resolution?: HoldResolution;
}
export interface ReservationReleased extends EventBase {
  readonly type: 'ReservationReleased';
  readonly sagaId: string;
  /** Empty when the saga never reserved here: the release is then a tombstone against a late
   * reservation of the same saga. */
  readonly legs: readonly ReservationLeg[];
  readonly reason: string;
  readonly resolution?: HoldResolution;
}

export type LedgerEvent =
  | AccountCreated
  | AccountFrozen
  | AccountUnfrozen
  | AccountClosed
  | TransferCreated
  | PendingTransferPosted
  | PendingTransferVoided
  | PendingTransferExpired
  | FundsReserved
  | ReservationCommitted
  | ReservationReleased;

export type EventType = LedgerEvent['type'];

/** Rejection: one code for the command, or one per transfer of a group or reservation. */
export interface Rejection {
  readonly ok: false;
  readonly code: RejectionCode;
  /** For groups and reservations: the code of each member, in order (LINKED_TRANSFER_FAILED for
   * members that were fine but not applied). */
  readonly codes?: readonly RejectionCode[];
  readonly detail?: string;
}

export interface Acceptance {
  readonly ok: true;
  readonly events: readonly LedgerEvent[];
  /** True when the command was a resubmission of an identical, already applied command: no
   * events, status `exists`. */
  readonly exists: boolean;
  /** For groups: which members already existed (identical resubmission). */
  readonly existsEach?: readonly boolean[];
}

export type Decision = Acceptance | Rejection;

export type SagaOutcome = 'reserved' | 'committed' | 'released';

/** A transfer as remembered by the id index: what `lookupTransfers` returns. */
export interface TransferRecord {
  readonly id: string;
  readonly kind: 'transfer' | 'post' | 'void';
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly pending: boolean;
  readonly timeoutMs: number;
  readonly metadata: Metadata | null;
  readonly timestamp: bigint;
  /** For post and void: the pending transfer they resolve. */
  readonly pendingId: string | null;
  /** posted: applied to the posted columns; pending: open hold; voided/expired: a hold that was
   * released; reserved/released: a cross-shard saga side in flight or rolled back. */
  readonly state: 'posted' | 'pending' | 'voided' | 'expired' | 'reserved' | 'released';
  /** For a pending transfer that was posted: the amount posted. */
  readonly postedAmount: bigint | null;
  readonly sagaId: string | null;
  /** For a hold between shards that was posted or voided: the post's or void's id, so that a
   * recovery that finishes its other shard can record the post or void there too. Internal:
   * lookupTransfers leaves it out. */
  readonly resolvedBy?: string;
}

/** Read access to facts too large to keep in memory (the on-disk id index), seen by `decide`. */
export interface DecideContext {
  readonly timestamp: bigint;
  readonly transfers: { get(id: string): TransferRecord | undefined };
  readonly sagas: { get(sagaId: string): SagaOutcome | undefined };
}
