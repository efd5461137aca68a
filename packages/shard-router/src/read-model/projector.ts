// The projector: applies one shard's events, in sequence order, to the read-model tables. A batch
// of events and the shard's new watermark are written in ONE SQLite transaction, so a crash at any
// moment leaves either all of the batch or none of it: no event is skipped or applied twice.
//
// Counters move exactly as in ledger-core's evolve() (account-counters.ts); a posting (a change
// of the posted counters; a hold is not one) is stored with the account's counters after it, on
// its transfers row or, for a saga's side, as an entries row; pending_entries hold the changes
// of the pending counters. Rows that combine several
// shards (the transfers row of a saga) are recomputed from per-shard facts (saga-legs.ts) so that
// the final content does not depend on the order in which shards were projected.

import { accountFlags, type LedgerEvent } from '@shardledger/ledger-core';
import {
  assert,
  assertNever,
  closedChangeOf,
  holdResolutionRecordOf,
  transferRecordOf,
} from '@shardledger/ledger-core/internals';
import {
  AccountCounters,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
} from './account-counters.js';
import {
  prepareProjectorStatements,
  type EventPosition,
  type ProjectorStatements,
} from './projector-statements.js';
import type { ReadModelDb } from './read-model-db.js';
import { closeLeg, insertLeg, recomputeSagaTransfer } from './saga-legs.js';
import {
  insertEntry,
  putHoldResolution,
  putLocalTransfer,
  resolveHold,
  type PostedCounters,
  type RowPostings,
} from './transfer-rows.js';

export interface SequencedLedgerEvent {
  readonly sequence: number;
  readonly event: LedgerEvent;
}

/** Events of one shard that follow `afterSequence` without a gap. */
export interface ProjectorBatch {
  readonly shard: number;
  readonly afterSequence: number;
  readonly events: readonly SequencedLedgerEvent[];
}

export interface Watermark {
  readonly shard: number;
  readonly sequence: number;
  /** Timestamp (ns) of the last projected event of the shard; 0n when none. */
  readonly timestamp: bigint;
}

/** The event being applied, and the index of the next entry it writes. */
interface EventCursor extends EventPosition {
  entryIndex: number;
}

type EventOf<Type extends LedgerEvent['type']> = Extract<LedgerEvent, { type: Type }>;

/** Applies event batches to one read-model database. Not reentrant: one batch at a time.
 *
 * It must be the file's only writer (the ReadModel's worker is): accounts' counters are cached
 * across batches. The watermark check at the start of each batch would catch a second writer of
 * the same shard, and every account lives on one shard. */
export class Projector {
  readonly #db: ReadModelDb;
  readonly #statements: ProjectorStatements;
  readonly #counters: AccountCounters;

  constructor(db: ReadModelDb) {
    this.#db = db;
    this.#statements = prepareProjectorStatements(db);
    this.#counters = new AccountCounters(this.#statements);
  }

  /** The stored watermark of every shard that has one. */
  watermarks(): Map<number, Watermark> {
    const marks = new Map<number, Watermark>();
    for (const row of this.#statements.watermarks.all() as {
      shard: bigint;
      last_sequence: bigint;
      last_timestamp: bigint;
    }[]) {
      const shard = Number(row.shard);
      marks.set(shard, {
        shard,
        sequence: Number(row.last_sequence),
        timestamp: row.last_timestamp,
      });
    }
    return marks;
  }

  /** Applies `events` of `shard` (which must follow `afterSequence` without a gap) and moves the
   * shard's watermark, all in one transaction. Returns the new watermark. */
  applyBatch(
    shard: number,
    afterSequence: number,
    events: readonly SequencedLedgerEvent[],
  ): Watermark {
    return this.applyBatches([{ shard, afterSequence, events }])[0] as Watermark;
  }

  /** Applies several batches (of one shard or several, each following the previous watermark of
   * its shard) and moves their shards' watermarks, all in ONE transaction: one commit instead of
   * one per batch. Returns each batch's new watermark, in order. */
  applyBatches(batches: readonly ProjectorBatch[]): Watermark[] {
    assert(batches.length > 0, 'no batches');
    const apply = this.#db.transaction((): Watermark[] => {
      const marks = batches.map((batch) => this.#applyOne(batch));
      this.#counters.flush();
      return marks;
    });
    let committed = false;
    try {
      const marks = apply();
      committed = true;
      return marks;
    } finally {
      this.#counters.settle(committed);
    }
  }

  #applyOne({ shard, afterSequence, events }: ProjectorBatch): Watermark {
    assert(events.length > 0, 'an empty batch is not applied');
    const stored = this.#statements.watermarks.all() as { shard: bigint; last_sequence: bigint }[];
    const storedSequence = Number(
      stored.find((row) => Number(row.shard) === shard)?.last_sequence ?? 0n,
    );
    // The exactly-once check: the batch starts right after what this file already holds.
    assert(
      storedSequence === afterSequence,
      `watermark moved under the projector (shard ${shard})`,
    );
    let expected = afterSequence + 1;
    for (const item of events) {
      assert(
        item.sequence === expected,
        `gap or repeat in shard ${shard} events at ${item.sequence}`,
      );
      this.#applyEvent(shard, item.sequence, item.event);
      expected += 1;
    }
    const last = events[events.length - 1] as SequencedLedgerEvent;
    this.#statements.setWatermark.run(shard, last.sequence, last.event.timestamp);
    return { shard, sequence: last.sequence, timestamp: last.event.timestamp };
  }

  #applyEvent(shard: number, sequence: number, event: LedgerEvent): void {
    const at: EventCursor = { shard, sequence, timestamp: event.timestamp, entryIndex: 0 };
    switch (event.type) {
      case 'AccountCreated':
        this.#counters.create(event.account, at);
        break;
      case 'TransferCreated':
        this.#applyTransferCreated(at, event);
        break;
      case 'PendingTransferPosted':
      case 'PendingTransferVoided':
        this.#applyHoldResolved(at, event);
        break;
      case 'PendingTransferExpired':
        this.#movePending(at, event.debitAccountId, DEBITS_PENDING, -event.amount);
        this.#movePending(at, event.creditAccountId, CREDITS_PENDING, -event.amount);
        resolveHold(this.#statements, shard, event.pendingId, 'expired', null);
        break;
      case 'FundsReserved':
      case 'ReservationCommitted':
      case 'ReservationReleased':
        this.#applySagaEvent(at, event);
        break;
      case 'AccountFrozen':
        this.#counters.setStatus(event.accountId, accountFlags.frozen, true);
        break;
      case 'AccountUnfrozen':
        this.#counters.setStatus(event.accountId, accountFlags.frozen, false);
        break;
      case 'AccountClosed':
        this.#counters.setStatus(event.accountId, accountFlags.closed, true);
        break;
      default:
        assertNever(event, 'event');
    }
  }

  #applyTransferCreated(at: EventCursor, event: EventOf<'TransferCreated'>): void {
    const spec = event.transfer;
    let postings: RowPostings | null = null;
    if (spec.pending) {
      this.#movePending(at, spec.debitAccountId, DEBITS_PENDING, spec.amount);
      this.#movePending(at, spec.creditAccountId, CREDITS_PENDING, spec.amount);
    } else {
      postings = {
        kind: 'transfer',
        debit: this.#post(spec.debitAccountId, DEBITS_POSTED, spec.amount),
        credit: this.#post(spec.creditAccountId, CREDITS_POSTED, spec.amount),
      };
    }
    putLocalTransfer(
      this.#statements,
      at,
      transferRecordOf(spec, at.timestamp, spec.pending ? 'pending' : 'posted', null),
      postings,
    );
  }

  /** The post or void of a hold on this shard: the hold's pending amounts go, a post's amount is
   * posted, and the hold's row shows how it was resolved. */
  #applyHoldResolved(
    at: EventCursor,
    event: EventOf<'PendingTransferPosted' | 'PendingTransferVoided'>,
  ): void {
    const posted = event.type === 'PendingTransferPosted';
    const { id, debitAccountId, creditAccountId, amount } = event;
    this.#movePending(at, debitAccountId, DEBITS_PENDING, -event.pendingAmount);
    this.#movePending(at, creditAccountId, CREDITS_PENDING, -event.pendingAmount);
    const postings: RowPostings | null =
      posted && amount > 0n
        ? {
            kind: 'post_pending',
            debit: this.#post(debitAccountId, DEBITS_POSTED, amount),
            credit: this.#post(creditAccountId, CREDITS_POSTED, amount),
          }
        : null;
    putLocalTransfer(
      this.#statements,
      at,
      {
        id,
        kind: posted ? 'post' : 'void',
        debitAccountId,
        creditAccountId,
        amount,
        currency: event.currency,
        pending: false,
        // A post's or void's own record is applied, 'posted', as lookupTransfers has it
        // (records.ts resolutionRecordOf); the hold it resolved is what becomes 'voided'.
        timeoutMs: 0,
        metadata: event.metadata,
        pendingId: event.pendingId,
        state: 'posted',
      },
      postings,
    );
    if (posted) resolveHold(this.#statements, at.shard, event.pendingId, 'posted', amount);
    else resolveHold(this.#statements, at.shard, event.pendingId, 'voided', null);
  }

  /** One shard's side of a saga step: the legs it reserves or closes, then the transfers rows of
   * the transfers they belong to. */
  #applySagaEvent(
    at: EventCursor,
    event: EventOf<'FundsReserved' | 'ReservationCommitted' | 'ReservationReleased'>,
  ): void {
    const ids = new Set<string>();
    for (const leg of event.legs) {
      const spec = leg.transfer;
      const debit = leg.side === 'debit';
      const accountId = debit ? spec.debitAccountId : spec.creditAccountId;
      ids.add(spec.id);
      if (event.type === 'FundsReserved') {
        this.#movePending(at, accountId, debit ? DEBITS_PENDING : CREDITS_PENDING, spec.amount);
        insertLeg(this.#statements, at, event.sagaId, leg);
        continue;
      }
      this.#movePending(at, accountId, debit ? DEBITS_PENDING : CREDITS_PENDING, -spec.amount);
      const committed = event.type === 'ReservationCommitted';
      // A cross-shard hold posts the amount its deciding shard decided (the event carries it when
      // it is less than the hold); a void or an expiry is kept as such on the leg.
      // Listed as one shard lists it: a transfer's posting, or a hold's post (filed under the
      // post's id, which both shards record; in a log written before the credit shard recorded
      // it, that shard's step names the hold only).
      if (committed) {
        const index = debit ? DEBITS_POSTED : CREDITS_POSTED;
        const post = spec.pending ? (event.resolution?.id ?? spec.id) : null;
        const amount = event.amount ?? spec.amount;
        insertEntry(this.#statements, {
          accountId,
          at,
          entryIndex: at.entryIndex,
          transferId: post ?? spec.id,
          kind: post === null ? 'transfer' : 'post_pending',
          amount: debit ? -amount : amount,
          counters: this.#post(accountId, index, amount),
        });
        at.entryIndex += 1;
      }
      // A hold voided or expired keeps that on its leg, as its records do (closedChangeOf).
      const legState = committed ? 'committed' : (closedChangeOf(event, spec).state as string);
      closeLeg(this.#statements, event.sagaId, leg, legState, at.timestamp);
    }
    // The post or void of a cross-shard hold, recorded by the shard that decided it and by the
    // one that followed (its postings are the legs' entries above).
    const resolution = event.type === 'FundsReserved' ? null : holdResolutionRecordOf(event);
    if (resolution !== null) putHoldResolution(this.#statements, at, resolution);
    const posted = event.type === 'ReservationCommitted' ? event.amount : undefined;
    for (const id of ids) recomputeSagaTransfer(this.#statements, id, posted);
  }

  /** A hold's amount in or out: moves a pending counter and records the account's pending
   * counters after the event (pending_entries). */
  #movePending(
    at: EventCursor,
    accountId: string,
    index: typeof DEBITS_PENDING | typeof CREDITS_PENDING,
    amount: bigint,
  ): void {
    const account = this.#counters.move(accountId, index, amount);
    const [, , debitsPending, creditsPending] = account.counters;
    this.#statements.putPendingEntry.run(
      accountId,
      at.sequence,
      at.timestamp,
      debitsPending.toString(),
      creditsPending.toString(),
    );
  }

  /** A posting: moves a posted counter; returns the account's posted counters after it. */
  #post(
    accountId: string,
    index: typeof DEBITS_POSTED | typeof CREDITS_POSTED,
    amount: bigint,
  ): PostedCounters {
    const [debits, credits] = this.#counters.move(accountId, index, amount).counters;
    return [debits, credits];
  }
}
