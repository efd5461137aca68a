// What an event posts to each account, for the history: its postings, and each posting's counters
// after it. An event posts at most once to an account, but for a saga step (a transfer whose
// accounts live on different shards runs as a saga): its legs are every transfer of an atomic
// group that has a side on this shard, so one account may have several. Each is a posting of its
// own, as each transfer of the group is an event of its own on one shard, and its counters are
// those one shard would show after it: the counters after the whole event, less what the later
// postings to the account moved as one shard lists them (asOneShard).

import {
  copyCounters,
  addCounter,
  subtractCounter,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  type Counters,
} from '../domain/balance.js';
import type { LedgerEvent, ReservationLeg, TransferRecord } from '../domain/types.js';
import type { HistoryEntry } from './engine-types.js';

export interface Posting {
  readonly accountId: string;
  readonly transferId: string;
}

/** Which accounts an event posts to, for the history index, in the event's order. */
export function postingsOf(event: LedgerEvent): Posting[] {
  switch (event.type) {
    case 'AccountCreated':
    case 'AccountFrozen':
    case 'AccountUnfrozen':
    case 'AccountClosed':
      return [];
    case 'TransferCreated':
      return [
        { accountId: event.transfer.debitAccountId, transferId: event.transfer.id },
        { accountId: event.transfer.creditAccountId, transferId: event.transfer.id },
      ];
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
      return [
        { accountId: event.debitAccountId, transferId: event.id },
        { accountId: event.creditAccountId, transferId: event.id },
      ];
    case 'PendingTransferExpired':
      return [
        { accountId: event.debitAccountId, transferId: event.pendingId },
        { accountId: event.creditAccountId, transferId: event.pendingId },
      ];
    case 'FundsReserved':
    case 'ReservationCommitted':
    case 'ReservationReleased':
      return event.legs.map((leg) => ({
        accountId: accountOf(leg),
        transferId: legTransferId(event, leg),
      }));
  }
}

/** The transfer a saga step's leg posts as one shard lists it: its own, or for the post or void
 * of a cross-shard hold (a closing step that carries it, on either shard), the post's or void's. */
function legTransferId(event: LedgerEvent, leg: ReservationLeg): string {
  const resolution =
    event.type === 'ReservationCommitted' || event.type === 'ReservationReleased'
      ? event.resolution
      : undefined;
  return resolution?.id ?? leg.transfer.id;
}

function accountOf(leg: ReservationLeg): string {
  return leg.side === 'debit' ? leg.transfer.debitAccountId : leg.transfer.creditAccountId;
}

/** The postings of `event` to the account of `first` (its first posting there), in order, each
 * with the account's counters after it: the last one's are `after` (the counters after the
 * event). Only a saga step may have more than one. */
export function accountPostings(
  event: LedgerEvent,
  first: Posting,
  after: Counters,
): { readonly transferId: string; readonly counters: Counters }[] {
  if (!('legs' in event)) return [{ transferId: first.transferId, counters: after }];
  const legs = event.legs.filter((leg) => accountOf(leg) === first.accountId);
  const result: { transferId: string; counters: Counters }[] = [];
  let counters = after;
  for (let index = legs.length - 1; index >= 0; index -= 1) {
    const leg = legs[index] as ReservationLeg;
    result.push({ transferId: legTransferId(event, leg), counters });
    if (index > 0) {
      counters = copyCounters(counters);
      undoLeg(counters, event, leg);
    }
  }
  return result.reverse();
}

/** Takes back from `counters` what `leg` of a saga step moved, as one shard lists it: a reserve
 * its pending amount; a commit the amount posted (and for a hold, the pending amount it held); a
 * release the pending amount it held. */
function undoLeg(counters: Counters, event: LedgerEvent, leg: ReservationLeg): void {
  const debit = leg.side === 'debit';
  const pending = debit ? DEBITS_PENDING : CREDITS_PENDING;
  const posted = debit ? DEBITS_POSTED : CREDITS_POSTED;
  const amount = leg.transfer.amount;
  if (event.type === 'FundsReserved') subtractCounter(counters, pending, amount);
  else if (event.type === 'ReservationReleased') addCounter(counters, pending, amount);
  else if (event.type === 'ReservationCommitted') {
    // A transfer between shards posts at its commit, as one shard posts it at once; a hold's
    // commit posts what it held.
    subtractCounter(counters, posted, leg.transfer.pending ? (event.amount ?? amount) : amount);
    if (leg.transfer.pending) addCounter(counters, pending, amount);
  }
}

/**
 * How one shard lists a posting that a saga step made here (a transfer whose accounts live on
 * different shards runs as a saga), so that history does not depend on where accounts live:
 * - a transfer is listed once, as created, when its saga commits: not while it is reserved, and
 *   not at all when the saga was released (refused: on one shard it would have written nothing);
 * - a hold is listed as created when reserved, then as posted, voided or expired.
 * Null: not listed. Other postings are listed as they are.
 */
export function asOneShard(
  entry: HistoryEntry,
  lookup: (transferId: string) => TransferRecord | undefined,
): HistoryEntry | null {
  const type = entry.eventType;
  if (type !== 'FundsReserved' && type !== 'ReservationCommitted' && type !== 'ReservationReleased')
    return entry;
  const record = lookup(entry.transferId);
  if (record === undefined) return null;
  let eventType: HistoryEntry['eventType'] | null;
  if (type === 'FundsReserved')
    eventType = record.pending && record.state !== 'released' ? 'TransferCreated' : null;
  else if (record.kind !== 'transfer')
    // The post or void of a cross-shard hold, listed under its own id (legTransferId).
    eventType = record.kind === 'post' ? 'PendingTransferPosted' : 'PendingTransferVoided';
  else if (type === 'ReservationCommitted')
    eventType = record.pending ? 'PendingTransferPosted' : 'TransferCreated';
  else if (record.state === 'voided') eventType = 'PendingTransferVoided';
  else eventType = record.state === 'expired' ? 'PendingTransferExpired' : null;
  return eventType === null ? null : { ...entry, eventType };
}
