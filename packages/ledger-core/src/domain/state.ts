// The in-memory state of one shard: what snapshots hold and what replay must rebuild exactly.
// Facts that grow with history (every transfer id ever used) live in the on-disk id index and are
// reached through DecideContext, so memory is bounded by accounts and open holds.

import { assert } from '../assert.js';
import { limits } from '../limits.js';
import { AccountOrder } from './account-order.js';
import { AccountTable } from '../account-table.js';
import { CounterRows, newCounters, type Counters } from './balance.js';
import type { AccountSpec, Metadata, ReservationLeg } from './types.js';

export interface AccountState {
  readonly id: string;
  readonly currency: string;
  /** Decimal places of the currency's minor unit, as the account was created with. */
  readonly scale: number;
  readonly flags: number;
  readonly metadata: Metadata | null;
  /** Creation order within the shard; the key prefix of the history index. */
  readonly ordinal: number;
  readonly timestamp: bigint;
  readonly counters: Counters;
}

export interface PendingState {
  readonly id: string;
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly timestamp: bigint;
  /** 0n when it never expires. */
  readonly expiresAt: bigint;
}

export interface ReservationState {
  readonly sagaId: string;
  readonly participants: readonly number[];
  readonly legs: readonly ReservationLeg[];
  readonly timestamp: bigint;
}

const NANOS_PER_MS = 1_000_000n;

/** When a hold made at `timestamp` (engine ns) with `timeoutMs` expires; 0n when it never does. */
export function expiresAtOf(timestamp: bigint, timeoutMs: number): bigint {
  return timeoutMs > 0 ? timestamp + BigInt(timeoutMs) * NANOS_PER_MS : 0n;
}

/** The one leg of a reservation that is a cross-shard hold (a pending transfer whose accounts
 * live on two shards), or undefined for any other saga. */
export function holdLegOf(reservation: ReservationState): ReservationLeg | undefined {
  const leg = reservation.legs[0];
  return reservation.legs.length === 1 && leg !== undefined && leg.transfer.pending
    ? leg
    : undefined;
}

/** Per currency: the sums of the account counters, and what crossed shards. With them the
 * double-entry invariant can be checked per shard in O(currencies) after every batch:
 *   debitsPosted - sagaDebitsPosted == creditsPosted - sagaCreditsPosted
 *   debitsPending - reservedDebits == creditsPending - reservedCredits */
export interface CurrencyTotals {
  /** Sums of [debitsPosted, creditsPosted, debitsPending, creditsPending] over accounts. */
  readonly accounts: Counters;
  /** [sagaDebitsPosted, sagaCreditsPosted, reservedDebits, reservedCredits]. */
  readonly saga: Counters;
}

export interface LedgerState {
  readonly accounts: AccountTable;
  /** The accounts' ids in id order per currency (derived from `accounts`): account listing. */
  readonly accountOrder: AccountOrder;
  /** Every account's exact counters by ordinal: account.counters point at its row here. */
  readonly counterRows: CounterRows;
  readonly pending: Map<string, PendingState>;
  readonly reservations: Map<string, ReservationState>;
  readonly totals: Map<string, CurrencyTotals>;
  /** Open pending transfers with a timeout, ordered by expiry (derived from `pending`). */
  readonly expiries: ExpiryQueue;
  /** Timestamp of the last event applied (0n before the first). */
  lastTimestamp: bigint;
  /** Events applied so far; the sequence number of the last one. */
  lastSequence: number;
}

export function initialState(): LedgerState {
  return {
    accounts: new AccountTable(),
    accountOrder: new AccountOrder(),
    counterRows: new CounterRows(),
    pending: new Map(),
    reservations: new Map(),
    totals: new Map(),
    expiries: new ExpiryQueue(),
    lastTimestamp: 0n,
    lastSequence: 0,
  };
}

/** `counters`: the account's row in the state's CounterRows (evolve passes it). */
export function newAccountState(
  spec: AccountSpec,
  ordinal: number,
  timestamp: bigint,
  counters: Counters,
): AccountState {
  assert(Number.isSafeInteger(spec.scale), 'an account scale is an integer');
  assert(spec.scale >= 0, 'an account scale is not negative');
  assert(spec.scale <= limits.currencyScaleMax, 'an account scale within currencyScaleMax');
  return {
    id: spec.id,
    currency: spec.currency,
    scale: spec.scale,
    flags: spec.flags,
    metadata: spec.metadata,
    ordinal,
    timestamp,
    counters,
  };
}

export function totalsFor(state: LedgerState, currency: string): CurrencyTotals {
  let totals = state.totals.get(currency);
  if (totals === undefined) {
    totals = { accounts: newCounters(), saga: newCounters() };
    state.totals.set(currency, totals);
  }
  return totals;
}

interface ExpiryEntry {
  readonly expiresAt: bigint;
  readonly id: string;
}

function before(left: ExpiryEntry, right: ExpiryEntry): boolean {
  if (left.expiresAt !== right.expiresAt) return left.expiresAt < right.expiresAt;
  return left.id < right.id;
}

/** A binary min-heap of (expiresAt, id). Entries of holds that were resolved stay until they
 * reach the top and are dropped lazily (`prune`). */
export class ExpiryQueue {
  private readonly heap: ExpiryEntry[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: ExpiryEntry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!before(heap[index] as ExpiryEntry, heap[parent] as ExpiryEntry)) break;
      [heap[index], heap[parent]] = [heap[parent] as ExpiryEntry, heap[index] as ExpiryEntry];
      index = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && before(heap[left] as ExpiryEntry, heap[smallest] as ExpiryEntry))
        smallest = left;
      if (right < heap.length && before(heap[right] as ExpiryEntry, heap[smallest] as ExpiryEntry))
        smallest = right;
      if (smallest === index) break;
      [heap[index], heap[smallest]] = [heap[smallest] as ExpiryEntry, heap[index] as ExpiryEntry];
      index = smallest;
    }
  }

  /** Drops top entries whose hold is no longer open. */
  prune(isOpen: (id: string) => boolean): void {
    while (this.heap.length > 0 && !isOpen((this.heap[0] as ExpiryEntry).id)) this.pop();
  }

  /** The earliest expiry still queued, or null. */
  peek(): bigint | null {
    const top = this.heap[0];
    return top === undefined ? null : top.expiresAt;
  }

  /** Ids with expiresAt <= at, in (expiresAt, id) order, without changing the heap. */
  due(at: bigint): string[] {
    const found: ExpiryEntry[] = [];
    const stack = [0];
    while (stack.length > 0) {
      const index = stack.pop() as number;
      const entry = this.heap[index];
      if (entry === undefined || entry.expiresAt > at) continue;
      found.push(entry);
      stack.push(2 * index + 1, 2 * index + 2);
    }
    found.sort((left, right) => (before(left, right) ? -1 : 1));
    return found.map((entry) => entry.id);
  }
}
