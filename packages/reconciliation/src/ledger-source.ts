// The ledger side of a run, read through the public Ledger API only: every transfer on the PSP's
// clearing accounts (their history, a page at a time), looked up in batches for their metadata
// and state. A transfer carries the match reference in its metadata under a configurable key; a
// transfer without it (a bank payout, a fee sweep) is counted and left out of matching, as are the
// adjusting transfers that resolving breaks posts (they carry `recon_break_id`).

import { assert } from '@shardledger/ledger-core/internals';
import { limits, type Ledger, type Transfer } from '@shardledger/shard-router';
import type { LedgerEntry, LedgerState } from './types.js';

/** Which side of the clearing account a capture lands on: `debit` when the clearing account is
 * money the PSP owes (an asset), `credit` for the mirror image. */
export const clearingSides = ['debit', 'credit'] as const;
export type ClearingSide = (typeof clearingSides)[number];

/** The metadata keys an adjusting transfer carries, pointing back to its break and run. */
export const adjustmentKeys = {
  breakId: 'recon_break_id',
  runId: 'recon_run_id',
  breakType: 'recon_break_type',
} as const;

export interface LedgerSourceOptions {
  readonly ledger: Ledger;
  readonly clearingAccountIds: readonly string[];
  readonly clearingSide: ClearingSide;
  readonly referenceKey: string;
  /** Transfers at or after this time (ms since the epoch); all when absent. */
  readonly fromMs?: number;
  /** Transfers before this time; all when absent. */
  readonly toMs?: number;
}

export type LedgerItem =
  | { readonly kind: 'entry'; readonly entry: LedgerEntry }
  | { readonly kind: 'unreferenced'; readonly transferId: string }
  | { readonly kind: 'adjustment'; readonly transferId: string };

/** One lookup per history page: the largest batch the ledger takes, which a page may hold. */
const lookupBatchSize = limits.batchSizeMax;
const historyPageSize = lookupBatchSize;
assert(historyPageSize <= limits.pageSizeMax, 'a history page of one lookup batch is allowed');

function stateOf(transfer: Transfer): LedgerState {
  switch (transfer.state) {
    case 'posted':
      return 'posted';
    case 'pending':
    case 'reserved':
      return 'pending';
    default:
      return 'voided';
  }
}

function toMs(timestamp: bigint): number {
  return Number(timestamp / 1_000_000n);
}

function itemOf(transfer: Transfer, clearingId: string, options: LedgerSourceOptions): LedgerItem {
  const metadata = transfer.metadata ?? {};
  if (metadata[adjustmentKeys.breakId] !== undefined)
    return { kind: 'adjustment', transferId: transfer.id };
  const reference = metadata[options.referenceKey];
  if (reference === undefined || reference === '')
    return { kind: 'unreferenced', transferId: transfer.id };
  const debitsClearing = transfer.debitAccountId === clearingId;
  const inward = debitsClearing === (options.clearingSide === 'debit');
  const amount =
    transfer.pending && transfer.postedAmount !== null ? transfer.postedAmount : transfer.amount;
  return {
    kind: 'entry',
    entry: {
      transferId: transfer.id,
      reference,
      currency: transfer.currency,
      amount: inward ? amount : -amount,
      state: stateOf(transfer),
      timestampMs: toMs(transfer.timestamp),
    },
  };
}

/** The ids of the transfers created on one clearing account within the window, a history page
 * at a time. */
async function* transferIdPages(
  clearingId: string,
  options: LedgerSourceOptions,
): AsyncGenerator<string[]> {
  const fromNs = options.fromMs === undefined ? undefined : BigInt(options.fromMs) * 1_000_000n;
  const toNs = options.toMs === undefined ? undefined : BigInt(options.toMs) * 1_000_000n;
  let after: string | null = null;
  do {
    const page = await options.ledger.accountHistory(clearingId, { after, limit: historyPageSize });
    yield page.entries
      .filter(
        (entry) =>
          entry.eventType === 'TransferCreated' &&
          (fromNs === undefined || entry.timestamp >= fromNs) &&
          (toNs === undefined || entry.timestamp < toNs),
      )
      .map((entry) => entry.transferId);
    after = page.next;
  } while (after !== null);
}

/** Lookups asked of the ledger before the first of them is awaited: while this thread turns one
 * answer into entries, the shard is already reading the next batch. */
const lookupsInFlightMax = 2;

async function lookupItems(
  ids: readonly string[],
  clearingId: string,
  options: LedgerSourceOptions,
): Promise<LedgerItem[]> {
  const transfers = await options.ledger.lookupTransfers(ids);
  const items: LedgerItem[] = [];
  for (const transfer of transfers) {
    if (transfer === undefined || transfer.kind !== 'transfer') continue;
    items.push(itemOf(transfer, clearingId, options));
  }
  return items;
}

/** Every transfer created on one clearing account within the window, in the order its shard
 * logged them, a batch per lookup. Up to lookupsInFlightMax lookups, and the next history page,
 * are asked for while the oldest answer is awaited; batches are handed out in order. */
async function* readAccount(
  clearingId: string,
  options: LedgerSourceOptions,
): AsyncGenerator<LedgerItem[]> {
  const inFlight: Promise<LedgerItem[]>[] = [];
  try {
    for await (const ids of transferIdPages(clearingId, options)) {
      for (let start = 0; start < ids.length; start += lookupBatchSize) {
        const lookup = lookupItems(ids.slice(start, start + lookupBatchSize), clearingId, options);
        // Awaited in turn below; until then a failure must not count as unhandled.
        lookup.catch(() => undefined);
        inFlight.push(lookup);
        if (inFlight.length >= lookupsInFlightMax) yield await inFlight.shift()!;
      }
    }
    while (inFlight.length > 0) yield await inFlight.shift()!;
  } finally {
    inFlight.length = 0;
  }
}

/** Every transfer on the clearing accounts within the window, account by account, in batches. */
export async function* readLedger(options: LedgerSourceOptions): AsyncGenerator<LedgerItem[]> {
  for (const clearingId of options.clearingAccountIds) yield* readAccount(clearingId, options);
}
