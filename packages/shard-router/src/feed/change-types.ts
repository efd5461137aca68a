// Public types of the change feed (Ledger.changes): what it takes and what it hands out.

import type { LedgerEvent } from '@shardledger/ledger-core';

export type { LedgerEvent };

/** An account's counters right after an event (amounts in minor units), as a HistoryEntry has
 * them: its balance is creditsPosted - debitsPosted. */
export interface AccountBalance {
  readonly accountId: string;
  readonly debitsPosted: bigint;
  readonly creditsPosted: bigint;
  readonly debitsPending: bigint;
  readonly creditsPending: bigint;
}

/** One committed event of one shard, as the change feed hands it out. */
export interface ChangeEvent {
  /** The shard that logged it. */
  readonly shard: number;
  /** Its place in that shard's log: 1, 2, 3, ... without gaps. `shard:sequence` names it. */
  readonly sequence: number;
  /** When the shard committed it, ns since the epoch. */
  readonly timestamp: bigint;
  /** The event as the shard logged it. */
  readonly event: LedgerEvent;
  /** The accounts of this shard that the event names, with their counters after it: the debit
   * and the credit account of a transfer (a step of a transfer between shards names this
   * shard's side only), the account of an account event. */
  readonly balances: readonly AccountBalance[];
}

/** Ledger.changes' options. */
export interface ChangesOptions {
  /** Start after this cursor (a ChangeFeed's `cursor`, stored by the consumer). Absent, null or
   * '': from each shard's first event (or from `from`). */
  readonly after?: string | null;
  /** Start with each shard's first event at or after this engine time (ns since the epoch, the
   * `timestamp` of a ChangeEvent); not with `after`. */
  readonly from?: bigint;
  /** Keep waiting for new events once caught up (default false: the feed ends once it has
   * handed out every event committed when it last looked at each shard). */
  readonly follow?: boolean;
  /** Ends the feed (the iteration finishes without an error) when aborted. */
  readonly signal?: AbortSignal;
  /** Events read from a shard's log at a time: 1 to limits.pageSizeMax (default 4,096). At most
   * two pages per shard are held: the one being handed out and the next one. */
  readonly pageSizeEvents?: number;
}
