// The ledger side of a run, read through the public Ledger API only: the ledger's change feed,
// from the window's start, keeping the transfers that touch a PSP clearing account. A
// transfer carries the match reference in its metadata under a configurable key; a transfer
// without it (a bank payout, a fee sweep) is counted and left out of matching, as are the
// adjusting transfers that resolving breaks posts (they carry `recon_break_id`).
//
// The feed is read instead of the clearing accounts' history and a lookup per transfer: the log
// holds each transfer once, with its metadata, in a fraction of the bytes that the history and
// id indexes take together, read in order (a million transfers: about 100 MB of log, against
// 84 MB of history plus 127 MB of id index pages, all of it mapped into the process).
//
// A transfer is handed out once its state is final, or at the end as it stands then:
// - created on one shard: as it is created, unless it is a hold; a hold once posted, voided or
//   expired (posted for the amount posted), or as pending while it is open;
// - between shards (a saga): a transfer once its saga commits (not while it is in flight); a hold
//   once its saga commits (posted) or is released as voided or expired; a saga released for any
//   other reason moved no money and is left out.
// It is dated, and kept to the window, as the clearing account's history dates it: when the
// clearing account's shard created it, or for a transfer between shards that is not a hold, when
// that shard committed it. (The ledger's lookups date a transfer between shards by the later of
// its two sides, a few ms apart at most.) The feed starts at the window's start (`from`): every
// event that a transfer of the window is dated by, or that changes it later, is at or after it.
// The holds still open are kept in memory until then: as many as are open at once.

import type { TransferSpec } from '@shardledger/ledger-core';
import type { ChangeEvent, Ledger } from '@shardledger/shard-router';
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

/** Items handed out per batch. */
const batchSize = 1_024;

/** A transfer on a clearing account whose state is not final yet. */
interface Open {
  readonly spec: TransferSpec;
  readonly clearingId: string;
  readonly timestamp: bigint;
}

class SourceState {
  readonly #options: LedgerSourceOptions;
  readonly #clearing: ReadonlySet<string>;
  readonly #fromNs: bigint | undefined;
  readonly #toNs: bigint | undefined;
  /** Holds created on one shard, by transfer id. */
  readonly holds = new Map<string, Open>();
  /** Holds between shards on a clearing account, by saga id. */
  readonly sagas = new Map<string, Open[]>();
  batch: LedgerItem[] = [];

  constructor(options: LedgerSourceOptions) {
    this.#options = options;
    this.#clearing = new Set(options.clearingAccountIds);
    this.#fromNs = options.fromMs === undefined ? undefined : BigInt(options.fromMs) * 1_000_000n;
    this.#toNs = options.toMs === undefined ? undefined : BigInt(options.toMs) * 1_000_000n;
  }

  /** The clearing account `spec` moves, when it moves one and is created within the window;
   * `side`: only that side's account (a saga's leg names the side on the shard that logged it). */
  clearingOf(spec: TransferSpec, timestamp: bigint, side?: ClearingSide): string | undefined {
    if (this.#fromNs !== undefined && timestamp < this.#fromNs) return undefined;
    if (this.#toNs !== undefined && timestamp >= this.#toNs) return undefined;
    if (side !== 'credit' && this.#clearing.has(spec.debitAccountId)) return spec.debitAccountId;
    if (side !== 'debit' && this.#clearing.has(spec.creditAccountId)) return spec.creditAccountId;
    return undefined;
  }

  /** Hands out a transfer as it stands: `amount`, the amount it moved (posted, for a hold). */
  emit(open: Open, state: LedgerState, amount: bigint): void {
    const { spec, clearingId } = open;
    const metadata = spec.metadata ?? {};
    if (metadata[adjustmentKeys.breakId] !== undefined) {
      this.batch.push({ kind: 'adjustment', transferId: spec.id });
      return;
    }
    const reference = metadata[this.#options.referenceKey];
    if (reference === undefined || reference === '') {
      this.batch.push({ kind: 'unreferenced', transferId: spec.id });
      return;
    }
    const inward =
      (spec.debitAccountId === clearingId) === (this.#options.clearingSide === 'debit');
    this.batch.push({
      kind: 'entry',
      entry: {
        transferId: spec.id,
        reference,
        currency: spec.currency,
        amount: inward ? amount : -amount,
        state,
        timestampMs: Number(open.timestamp / 1_000_000n),
      },
    });
  }

  take(event: ChangeEvent): void {
    const logged = event.event;
    switch (logged.type) {
      case 'TransferCreated': {
        const clearingId = this.clearingOf(logged.transfer, logged.timestamp);
        if (clearingId === undefined) return;
        const open = { spec: logged.transfer, clearingId, timestamp: logged.timestamp };
        if (logged.transfer.pending) this.holds.set(logged.transfer.id, open);
        else this.emit(open, 'posted', logged.transfer.amount);
        return;
      }
      case 'PendingTransferPosted':
      case 'PendingTransferVoided':
      case 'PendingTransferExpired': {
        const open = this.holds.get(logged.pendingId);
        if (open === undefined) return;
        this.holds.delete(logged.pendingId);
        if (logged.type === 'PendingTransferPosted') this.emit(open, 'posted', logged.amount);
        else this.emit(open, 'voided', open.spec.amount);
        return;
      }
      case 'FundsReserved': {
        // Only holds are followed from here: a transfer between shards is taken at its commit,
        // whose event names its legs too.
        const legs: Open[] = [];
        for (const leg of logged.legs) {
          if (!leg.transfer.pending) continue;
          const clearingId = this.clearingOf(leg.transfer, logged.timestamp, leg.side);
          if (clearingId === undefined || legs.some((open) => open.spec.id === leg.transfer.id))
            continue;
          legs.push({ spec: leg.transfer, clearingId, timestamp: logged.timestamp });
        }
        if (legs.length > 0) this.sagas.set(logged.sagaId, legs);
        return;
      }
      case 'ReservationCommitted': {
        const holds = this.sagas.get(logged.sagaId);
        this.sagas.delete(logged.sagaId);
        for (const open of holds ?? [])
          this.emit(open, 'posted', logged.amount ?? open.spec.amount);
        const taken = new Set<string>();
        for (const leg of logged.legs) {
          if (leg.transfer.pending) continue;
          // A transfer between shards posts when its saga commits, and is dated by it.
          const clearingId = this.clearingOf(leg.transfer, logged.timestamp, leg.side);
          // A transfer with both sides on this shard is two legs: taken once.
          if (clearingId === undefined || taken.has(leg.transfer.id)) continue;
          taken.add(leg.transfer.id);
          const open = { spec: leg.transfer, clearingId, timestamp: logged.timestamp };
          this.emit(open, 'posted', leg.transfer.amount);
        }
        return;
      }
      case 'ReservationReleased': {
        const holds = this.sagas.get(logged.sagaId);
        if (holds === undefined) return;
        this.sagas.delete(logged.sagaId);
        if (logged.reason !== 'voided' && logged.reason !== 'expired') return;
        for (const open of holds) this.emit(open, 'voided', open.spec.amount);
        return;
      }
      default:
        return;
    }
  }

  /** Hands out the holds still open at the end of the log, as pending. (A transfer between
   * shards whose saga is still in flight is not there yet, as in the clearing account's
   * history.) */
  finish(): void {
    for (const open of this.holds.values()) this.emit(open, 'pending', open.spec.amount);
    for (const holds of this.sagas.values())
      for (const open of holds) this.emit(open, 'pending', open.spec.amount);
    this.holds.clear();
    this.sagas.clear();
  }
}

/** Every transfer on the clearing accounts within the window, in batches (see the file's head
 * comment for when each is handed out). */
export async function* readLedger(options: LedgerSourceOptions): AsyncGenerator<LedgerItem[]> {
  const state = new SourceState(options);
  // From the window's start: a transfer is dated when its clearing account's shard took it, at
  // or after the event that is dated so (see the file's head comment).
  const from = options.fromMs === undefined ? {} : { from: BigInt(options.fromMs) * 1_000_000n };
  for await (const event of options.ledger.changes(from)) {
    state.take(event);
    if (state.batch.length >= batchSize) {
      yield state.batch;
      state.batch = [];
    }
  }
  state.finish();
  if (state.batch.length > 0) yield state.batch;
}
