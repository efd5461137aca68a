// The projector: applies one shard's events, in sequence order, to the read-model tables. A batch
// of events and the shard's new watermark are written in ONE SQLite transaction, so a crash at any
// moment leaves either all of the batch or none of it: no event is skipped or applied twice.
//
// Counters move exactly as in ledger-core's evolve(); entries are written for changes of the
// posted counters only (a hold is not a posting). Rows that combine several shards (the
// transfers row of a saga) are recomputed from per-shard facts (saga_legs) so that the final
// content does not depend on the order in which shards were projected.

import {
  assert,
  assertNever,
  closedChangeOf,
  holdResolutionRecordOf,
  type LedgerEvent,
  type Metadata,
  type ReservationLeg,
  type TransferRecord,
  type TransferSpec,
} from '@shardledger/ledger-core';
import type { ReadModelDb } from './read-model-db.js';

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

interface AccountCache {
  readonly id: string;
  readonly currency: string;
  counters: [bigint, bigint, bigint, bigint];
  dirty: boolean;
  fresh: boolean;
  readonly flags: number;
  readonly metadata: string | null;
  readonly timestamp: bigint;
  readonly shard: number;
  readonly sequence: number;
}

// Counter indices, as in ledger-core's balance.ts.
const DEBITS_POSTED = 0;
const CREDITS_POSTED = 1;
const DEBITS_PENDING = 2;
const CREDITS_PENDING = 3;

interface LegRow {
  saga_id: string;
  side: string;
  shard: bigint;
  sequence: bigint;
  timestamp: bigint;
  state: string;
  spec: string;
}

interface StoredSpec {
  debitAccountId: string;
  creditAccountId: string;
  amount: string;
  currency: string;
  timeoutMs: number;
  metadata: Metadata | null;
  /** A cross-shard hold (absent in rows written before holds could cross shards). */
  pending?: boolean;
}

function metadataText(metadata: Metadata | null): string | null {
  return metadata === null ? null : JSON.stringify(metadata);
}

/** Accounts whose committed counters the projector keeps in memory between batches; past this
 * many the cache is dropped after a batch and refilled from the file as events name them. */
const accountCacheSizeMax = 200_000;

/** Applies event batches to one read-model database. Not reentrant: one batch at a time.
 *
 * It must be the file's only writer (the ReadModel's worker is): accounts' counters are cached
 * across batches. The watermark check at the start of each batch would catch a second writer of
 * the same shard, and every account lives on one shard. */
export class Projector {
  readonly #db: ReadModelDb;
  readonly #statements: Statements;
  /** Counters as committed, plus the changes of the batch being applied (the dirty ones). */
  readonly #accounts = new Map<string, AccountCache>();
  /** Accounts changed by the batch being applied, written once by #flush. */
  readonly #dirty: AccountCache[] = [];
  readonly #currencyDeltas = new Map<string, [bigint, bigint, bigint, bigint]>();

  constructor(db: ReadModelDb) {
    this.#db = db;
    this.#statements = prepareStatements(db);
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
      this.#flush();
      return marks;
    });
    let committed = false;
    try {
      const marks = apply();
      committed = true;
      return marks;
    } finally {
      if (committed) {
        for (const account of this.#dirty) {
          account.dirty = false;
          account.fresh = false;
        }
      }
      // On a rollback the cache holds uncommitted counters: drop it (and when it grew too big).
      if (!committed || this.#accounts.size > accountCacheSizeMax) this.#accounts.clear();
      this.#dirty.length = 0;
      this.#currencyDeltas.clear();
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
    const at = { shard, sequence, timestamp: event.timestamp, entryIndex: 0 };
    switch (event.type) {
      case 'AccountCreated': {
        const spec = event.account;
        assert(
          !this.#accounts.has(spec.id) && this.#statements.account.get(spec.id) === undefined,
          'account projected twice',
        );
        const account: AccountCache = {
          id: spec.id,
          currency: spec.currency,
          counters: [0n, 0n, 0n, 0n],
          dirty: true,
          fresh: true,
          flags: spec.flags,
          metadata: metadataText(spec.metadata),
          timestamp: event.timestamp,
          shard,
          sequence,
        };
        this.#accounts.set(spec.id, account);
        this.#dirty.push(account);
        this.#currencyDelta(spec.currency);
        break;
      }
      case 'TransferCreated': {
        const spec = event.transfer;
        if (spec.pending) {
          this.#move(spec.debitAccountId, DEBITS_PENDING, spec.amount);
          this.#move(spec.creditAccountId, CREDITS_PENDING, spec.amount);
        } else {
          this.#post(at, spec.debitAccountId, DEBITS_POSTED, spec.amount, spec.id, 'transfer');
          this.#post(at, spec.creditAccountId, CREDITS_POSTED, spec.amount, spec.id, 'transfer');
        }
        this.#putLocalTransfer(at, {
          id: spec.id,
          kind: 'transfer',
          debitAccountId: spec.debitAccountId,
          creditAccountId: spec.creditAccountId,
          amount: spec.amount,
          currency: spec.currency,
          pending: spec.pending,
          timeoutMs: spec.timeoutMs,
          metadata: spec.metadata,
          pendingId: null,
          state: spec.pending ? 'pending' : 'posted',
        });
        break;
      }
      case 'PendingTransferPosted':
      case 'PendingTransferVoided': {
        const posted = event.type === 'PendingTransferPosted';
        this.#move(event.debitAccountId, DEBITS_PENDING, -event.pendingAmount);
        this.#move(event.creditAccountId, CREDITS_PENDING, -event.pendingAmount);
        if (posted && event.amount > 0n) {
          this.#post(
            at,
            event.debitAccountId,
            DEBITS_POSTED,
            event.amount,
            event.id,
            'post_pending',
          );
          this.#post(
            at,
            event.creditAccountId,
            CREDITS_POSTED,
            event.amount,
            event.id,
            'post_pending',
          );
        }
        this.#putLocalTransfer(at, {
          id: event.id,
          kind: posted ? 'post' : 'void',
          debitAccountId: event.debitAccountId,
          creditAccountId: event.creditAccountId,
          amount: event.amount,
          currency: event.currency,
          pending: false,
          // A post's or void's own record is applied, 'posted', as lookupTransfers has it
          // (records.ts resolutionRecordOf); the hold it resolved is what becomes 'voided'.
          timeoutMs: 0,
          metadata: event.metadata,
          pendingId: event.pendingId,
          state: 'posted',
        });
        this.#statements.resolveHold.run(
          posted ? 'posted' : 'voided',
          posted ? event.amount.toString() : null,
          event.pendingId,
          shard,
          'transfer',
        );
        break;
      }
      case 'PendingTransferExpired': {
        this.#move(event.debitAccountId, DEBITS_PENDING, -event.amount);
        this.#move(event.creditAccountId, CREDITS_PENDING, -event.amount);
        this.#statements.resolveHold.run('expired', null, event.pendingId, shard, 'transfer');
        break;
      }
      case 'FundsReserved':
      case 'ReservationCommitted':
      case 'ReservationReleased':
        this.#applySagaEvent(at, event);
        break;
      default:
        assertNever(event, 'event');
    }
  }

  #applySagaEvent(
    at: { shard: number; sequence: number; timestamp: bigint; entryIndex: number },
    event: Extract<
      LedgerEvent,
      { type: 'FundsReserved' | 'ReservationCommitted' | 'ReservationReleased' }
    >,
  ): void {
    const ids = new Set<string>();
    for (const leg of event.legs) {
      const spec = leg.transfer;
      const debit = leg.side === 'debit';
      const accountId = debit ? spec.debitAccountId : spec.creditAccountId;
      ids.add(spec.id);
      if (event.type === 'FundsReserved') {
        this.#move(accountId, debit ? DEBITS_PENDING : CREDITS_PENDING, spec.amount);
        this.#statements.insertLeg.run(
          spec.id,
          event.sagaId,
          leg.side,
          at.shard,
          at.sequence,
          at.timestamp,
          'reserved',
          legSpecText(leg),
        );
        continue;
      }
      this.#move(accountId, debit ? DEBITS_PENDING : CREDITS_PENDING, -spec.amount);
      const committed = event.type === 'ReservationCommitted';
      // A cross-shard hold posts the amount its deciding shard decided (the event carries it when
      // it is less than the hold); a void or an expiry is kept as such on the leg.
      if (committed)
        this.#post(
          at,
          accountId,
          debit ? DEBITS_POSTED : CREDITS_POSTED,
          event.amount ?? spec.amount,
          spec.id,
          'saga_commit',
        );
      // A hold voided or expired keeps that on its leg, as its records do (closedChangeOf).
      const legState = committed ? 'committed' : (closedChangeOf(event, spec).state as string);
      const changed = this.#statements.setLegState.run(legState, spec.id, event.sagaId, leg.side);
      assert(changed.changes === 1, 'a saga leg closes once, after it was reserved');
    }
    // The post or void of a cross-shard hold, recorded by the shard that decided it.
    const resolution = event.type === 'FundsReserved' ? null : holdResolutionRecordOf(event);
    if (resolution !== null) this.#putLocalTransfer(at, resolution);
    const posted = event.type === 'ReservationCommitted' ? event.amount : undefined;
    for (const id of ids) this.#recomputeSagaTransfer(id, posted);
  }

  /** A posting: moves a posted counter and writes the account's entry with its running totals. */
  #post(
    at: { shard: number; sequence: number; timestamp: bigint; entryIndex: number },
    accountId: string,
    index: typeof DEBITS_POSTED | typeof CREDITS_POSTED,
    amount: bigint,
    transferId: string,
    kind: 'transfer' | 'post_pending' | 'saga_commit',
  ): void {
    const account = this.#move(accountId, index, amount);
    const [debits, credits] = account.counters;
    const signed = index === DEBITS_POSTED ? -amount : amount;
    this.#statements.insertEntry.run(
      at.shard,
      at.sequence,
      at.entryIndex,
      accountId,
      transferId,
      kind,
      signed.toString(),
      (credits - debits).toString(),
      debits.toString(),
      credits.toString(),
      at.timestamp,
    );
    at.entryIndex += 1;
  }

  #move(accountId: string, index: number, amount: bigint): AccountCache {
    const account = this.#account(accountId);
    const next = (account.counters[index] as bigint) + amount;
    assert(next >= 0n, `counter of ${accountId} would go negative`);
    account.counters[index] = next;
    if (!account.dirty) {
      account.dirty = true;
      this.#dirty.push(account);
    }
    const delta = this.#currencyDelta(account.currency);
    delta[index] = (delta[index] as bigint) + amount;
    return account;
  }

  #account(id: string): AccountCache {
    const cached = this.#accounts.get(id);
    if (cached !== undefined) return cached;
    const row = this.#statements.account.get(id) as
      Record<string, bigint | string | null> | undefined;
    assert(row !== undefined, `event names an account not projected: ${id}`);
    const account: AccountCache = {
      id,
      currency: row['currency'] as string,
      counters: [
        BigInt(row['debits_posted'] as string),
        BigInt(row['credits_posted'] as string),
        BigInt(row['debits_pending'] as string),
        BigInt(row['credits_pending'] as string),
      ],
      dirty: false,
      fresh: false,
      flags: Number(row['flags']),
      metadata: row['metadata'] as string | null,
      timestamp: row['timestamp'] as bigint,
      shard: Number(row['shard']),
      sequence: Number(row['sequence']),
    };
    this.#accounts.set(id, account);
    return account;
  }

  #currencyDelta(currency: string): [bigint, bigint, bigint, bigint] {
    let delta = this.#currencyDeltas.get(currency);
    if (delta === undefined) this.#currencyDeltas.set(currency, (delta = [0n, 0n, 0n, 0n]));
    return delta;
  }

  /** Writes the batch's account counters and currency totals (once per batch, not per event). */
  #flush(): void {
    for (const account of this.#dirty) {
      const [dp, cp, dq, cq] = account.counters;
      const texts = [
        dp.toString(),
        cp.toString(),
        dq.toString(),
        cq.toString(),
        (cp - dp).toString(),
      ] as const;
      if (account.fresh) {
        this.#statements.insertAccount.run(
          account.id,
          account.currency,
          account.flags,
          account.metadata,
          account.timestamp,
          account.shard,
          account.sequence,
          ...texts,
        );
      } else {
        this.#statements.updateAccount.run(...texts, account.id);
      }
    }
    for (const [currency, delta] of this.#currencyDeltas) {
      const row = this.#statements.totals.get(currency) as Record<string, string> | undefined;
      const base =
        row === undefined
          ? [0n, 0n, 0n, 0n]
          : [
              row['debits_posted'],
              row['credits_posted'],
              row['debits_pending'],
              row['credits_pending'],
            ].map((text) => BigInt(text as string));
      const sums = delta.map((value, index) => ((base[index] as bigint) + value).toString());
      this.#statements.upsertTotals.run(currency, ...sums);
    }
  }

  /** A transfer applied on one shard. If its id already has a row: a released saga's row gives
   * way; of two such transfers on different shards (a dir written before ids were checked across
   * shards may hold some) the one with the lower (shard, sequence) is kept, whatever order the
   * shards were projected in. */
  #putLocalTransfer(
    at: { shard: number; sequence: number; timestamp: bigint },
    row: LocalTransfer,
  ): void {
    const values = [
      row.id,
      row.kind,
      row.debitAccountId,
      row.creditAccountId,
      row.amount.toString(),
      row.currency,
      row.pending ? 1 : 0,
      row.timeoutMs,
      metadataText(row.metadata),
      row.pendingId,
      row.state,
      null,
      at.timestamp,
      at.shard,
      at.sequence,
      null,
      0,
    ] as const;
    if (this.#statements.insertTransfer.run(...values).changes === 0) {
      const existing = this.#statements.transferOrigin.get(row.id) as {
        saga_id: string | null;
        shard: bigint;
        sequence: bigint;
      };
      const older =
        existing.saga_id === null &&
        (Number(existing.shard) < at.shard ||
          (Number(existing.shard) === at.shard && Number(existing.sequence) < at.sequence));
      if (older) return;
      this.#statements.deleteTransfer.run(row.id);
      this.#statements.deleteMetadata.run(row.id);
      assert(this.#statements.insertTransfer.run(...values).changes === 1, 'transfer row replaced');
    }
    this.#putMetadata(row.id, row.metadata);
  }

  #putMetadata(id: string, metadata: Metadata | null): void {
    if (metadata === null) return;
    for (const key of Object.keys(metadata))
      this.#statements.insertMetadata.run(key, metadata[key] as string, id);
  }

  /** The transfers row of a saga transfer, from every leg recorded so far: the saga that is not
   * released (lowest saga id if several), else the last released one. A transfer applied on one
   * shard under the same id keeps its row. */
  #recomputeSagaTransfer(id: string, postedAmount?: bigint): void {
    const existing = this.#statements.transferOrigin.get(id) as
      { saga_id: string | null } | undefined;
    if (existing !== undefined && existing.saga_id === null) return;
    const legs = this.#statements.legsOf.all(id) as LegRow[];
    assert(legs.length > 0, 'a saga transfer has legs');
    const sagas = new Map<string, LegRow[]>();
    for (const leg of legs) {
      const list = sagas.get(leg.saga_id) ?? [];
      list.push(leg);
      sagas.set(leg.saga_id, list);
    }
    let winner: { sagaId: string; legs: LegRow[]; state: string } | null = null;
    for (const [sagaId, sagaLegs] of sagas) {
      const hold = (JSON.parse((sagaLegs[0] as LegRow).spec) as StoredSpec).pending === true;
      const closedAs = sagaLegs.find(
        (leg) => leg.state === 'voided' || leg.state === 'expired',
      )?.state;
      const state = sagaLegs.some((leg) => leg.state === 'released')
        ? 'released'
        : closedAs !== undefined
          ? closedAs
          : sagaLegs.length === 2 && sagaLegs.every((leg) => leg.state === 'committed')
            ? 'posted'
            : hold
              ? 'pending'
              : 'reserved';
      if (
        winner === null ||
        (winner.state === 'released' && (state !== 'released' || sagaId > winner.sagaId))
      ) {
        winner = { sagaId, legs: sagaLegs, state };
      }
    }
    assert(winner !== null, 'a saga wins');
    const debitLeg = winner.legs.find((leg) => leg.side === 'debit');
    const creditLeg = winner.legs.find((leg) => leg.side === 'credit');
    const origin = (debitLeg ?? creditLeg) as LegRow;
    const spec = JSON.parse(origin.spec) as StoredSpec;
    const crossShard =
      debitLeg === undefined || creditLeg === undefined || debitLeg.shard !== creditLeg.shard
        ? 1
        : 0;
    this.#statements.deleteTransfer.run(id);
    this.#statements.deleteMetadata.run(id);
    // A hold becomes 'posted' with the commit of its second side, whose event carries the amount
    // posted when it is less than the hold (both sides' commits carry it).
    const holdPosted =
      spec.pending === true && winner.state === 'posted'
        ? (postedAmount?.toString() ?? spec.amount)
        : null;
    this.#statements.insertTransfer.run(
      id,
      'transfer',
      spec.debitAccountId,
      spec.creditAccountId,
      spec.amount,
      spec.currency,
      spec.pending === true ? 1 : 0,
      spec.timeoutMs,
      metadataText(spec.metadata),
      null,
      winner.state,
      holdPosted,
      origin.timestamp,
      origin.shard,
      origin.sequence,
      winner.sagaId,
      crossShard,
    );
    this.#putMetadata(id, spec.metadata);
  }
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareStatements(db: ReadModelDb) {
  const prepare = (sql: string) => db.prepare(sql);
  return {
    watermarks: prepare(
      'SELECT shard, last_sequence, last_timestamp FROM watermarks ORDER BY shard',
    ).safeIntegers(true),
    setWatermark: prepare(
      'INSERT INTO watermarks (shard, last_sequence, last_timestamp) VALUES (?, ?, ?) ' +
        'ON CONFLICT (shard) DO UPDATE SET last_sequence = excluded.last_sequence, last_timestamp = excluded.last_timestamp',
    ),
    account: prepare('SELECT * FROM accounts WHERE id = ?').safeIntegers(true),
    insertAccount: prepare(
      'INSERT INTO accounts (id, currency, flags, metadata, timestamp, shard, sequence, debits_posted, credits_posted, ' +
        'debits_pending, credits_pending, balance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateAccount: prepare(
      'UPDATE accounts SET debits_posted = ?, credits_posted = ?, debits_pending = ?, credits_pending = ?, balance = ? WHERE id = ?',
    ),
    totals: prepare('SELECT * FROM currency_totals WHERE currency = ?'),
    upsertTotals: prepare(
      'INSERT INTO currency_totals (currency, debits_posted, credits_posted, debits_pending, credits_pending) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (currency) DO UPDATE SET debits_posted = excluded.debits_posted, credits_posted = excluded.credits_posted, ' +
        'debits_pending = excluded.debits_pending, credits_pending = excluded.credits_pending',
    ),
    insertEntry: prepare(
      'INSERT INTO entries (shard, sequence, entry_index, account_id, transfer_id, kind, amount, balance, debits_posted, ' +
        'credits_posted, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    transferOrigin: prepare(
      'SELECT saga_id, shard, sequence FROM transfers WHERE id = ?',
    ).safeIntegers(true),
    insertTransfer: prepare(
      'INSERT INTO transfers (id, kind, debit_account_id, credit_account_id, amount, currency, pending, timeout_ms, metadata, ' +
        'pending_id, state, posted_amount, timestamp, shard, sequence, saga_id, cross_shard) ' +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    ),
    deleteTransfer: prepare('DELETE FROM transfers WHERE id = ?'),
    resolveHold: prepare(
      'UPDATE transfers SET state = ?, posted_amount = ? WHERE id = ? AND shard = ? AND saga_id IS NULL AND kind = ?',
    ),
    insertMetadata: prepare(
      'INSERT INTO transfer_metadata (key, value, transfer_id) VALUES (?, ?, ?)',
    ),
    deleteMetadata: prepare('DELETE FROM transfer_metadata WHERE transfer_id = ?'),
    insertLeg: prepare(
      'INSERT INTO saga_legs (transfer_id, saga_id, side, shard, sequence, timestamp, state, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    setLegState: prepare(
      'UPDATE saga_legs SET state = ? WHERE transfer_id = ? AND saga_id = ? AND side = ?',
    ),
    legsOf: prepare(
      'SELECT saga_id, side, shard, sequence, timestamp, state, spec FROM saga_legs WHERE transfer_id = ? ORDER BY saga_id, side',
    ).safeIntegers(true),
  };
}

/** A same-shard transfer row: the write side's record fields, with the state as stored. */
type LocalTransfer = Omit<TransferRecord, 'timestamp' | 'postedAmount' | 'sagaId' | 'state'> & {
  readonly state: string;
};

function legSpecText(leg: ReservationLeg): string {
  const spec: TransferSpec = leg.transfer;
  const stored: StoredSpec = {
    debitAccountId: spec.debitAccountId,
    creditAccountId: spec.creditAccountId,
    amount: spec.amount.toString(),
    currency: spec.currency,
    timeoutMs: spec.timeoutMs,
    metadata: spec.metadata,
    ...(spec.pending ? { pending: true } : {}),
  };
  return JSON.stringify(stored);
}
