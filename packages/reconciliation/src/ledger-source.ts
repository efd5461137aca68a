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

/** A history page of the largest batch the ledger takes (few round trips for plain ids), looked
 * up in batches of a few hundred: an answer's transfers are live on both threads from the shard's
 * read until their bucket lines are written, and a small answer lets them die young there instead
 * of surviving into the old generation (8,190 at a time held about 30 MB more memory, at the same
 * speed). */
const historyPageSize = limits.batchSizeMax;
const lookupBatchSize = 1_024;
assert(historyPageSize <= limits.pageSizeMax, 'a history page is a page the ledger allows');
assert(lookupBatchSize <= limits.batchSizeMax, 'a lookup batch is a batch the ledger takes');

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

interface IdPage {
  readonly ids: string[];
  readonly next: string | null;
}

/** The ids of the transfers created within the window on one history page. */
async function idPage(
  clearingId: string,
  after: string | null,
  options: LedgerSourceOptions,
): Promise<IdPage> {
  const fromNs = options.fromMs === undefined ? undefined : BigInt(options.fromMs) * 1_000_000n;
  const toNs = options.toMs === undefined ? undefined : BigInt(options.toMs) * 1_000_000n;
  const page = await options.ledger.accountHistory(clearingId, { after, limit: historyPageSize });
  const ids = page.entries
    .filter(
      (entry) =>
        entry.eventType === 'TransferCreated' &&
        (fromNs === undefined || entry.timestamp >= fromNs) &&
        (toNs === undefined || entry.timestamp < toNs),
    )
    .map((entry) => entry.transferId);
  return { ids, next: page.next };
}

/** The ids of the transfers created on one clearing account within the window, a history page
 * at a time. A page's entries are read in idPage: a generator keeps what its frame holds while it
 * waits at a yield, and the entries, held through all of the page's lookups, were promoted to the
 * old generation page after page. */
async function* transferIdPages(
  clearingId: string,
  options: LedgerSourceOptions,
): AsyncGenerator<string[]> {
  let after: string | null = null;
  do {
    const { ids, next }: IdPage = await idPage(clearingId, after, options);
    yield ids;
    after = next;
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
