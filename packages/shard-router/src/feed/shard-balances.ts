// The counters of one shard's accounts as the change feed walks its log, so that each event it
// hands out carries the balances of its accounts after it. They move exactly as ledger-core's
// evolve() moves them; every account lives on one shard, so a shard's log alone decides them.

import type { LedgerEvent } from '@shardledger/ledger-core';
import { assert, assertNever } from '@shardledger/ledger-core/internals';
import type { AccountBalance } from './change-types.js';

/** One account's counters as the walk moves them (mutable: a ChangeEvent gets a copy). One class,
 * so that every account has the same shape and its fields are read without a lookup. */
class Counters {
  readonly accountId: string;
  debitsPosted = 0n;
  creditsPosted = 0n;
  debitsPending = 0n;
  creditsPending = 0n;

  constructor(accountId: string) {
    this.accountId = accountId;
  }

  /** The counters as they are now, for a ChangeEvent to keep. */
  balance(): AccountBalance {
    return {
      accountId: this.accountId,
      debitsPosted: this.debitsPosted,
      creditsPosted: this.creditsPosted,
      debitsPending: this.debitsPending,
      creditsPending: this.creditsPending,
    };
  }
}

type EventOf<Type extends LedgerEvent['type']> = Extract<LedgerEvent, { type: Type }>;

/** One shard's accounts and their counters, moved event by event in sequence order. Memory: one
 * entry per account of the shard, whatever the length of the log. */
export class ShardBalances {
  readonly #accounts = new Map<string, Counters>();
  /** The sequence of the last event applied. */
  #sequence = 0;

  get sequence(): number {
    return this.#sequence;
  }

  /** Starts from the shard's accounts as they were after event `sequence` (a snapshot's), before
   * any event was applied: the walk then goes on from the event after it. */
  seed(sequence: number, accounts: Iterable<AccountBalance>): void {
    assert(this.#sequence === 0 && this.#accounts.size === 0, 'balances seeded before the walk');
    for (const balance of accounts) {
      const counters = new Counters(balance.accountId);
      counters.debitsPosted = balance.debitsPosted;
      counters.creditsPosted = balance.creditsPosted;
      counters.debitsPending = balance.debitsPending;
      counters.creditsPending = balance.creditsPending;
      this.#accounts.set(balance.accountId, counters);
    }
    this.#sequence = sequence;
  }

  /** Moves the counters by the event at `sequence` (the one after the last applied) and returns
   * the balances after it of the accounts it names. */
  apply(sequence: number, event: LedgerEvent): AccountBalance[] {
    assert(sequence === this.#sequence + 1, 'events applied in sequence order');
    this.#sequence = sequence;
    switch (event.type) {
      case 'TransferCreated':
        return this.#transferCreated(event.transfer);
      case 'AccountCreated': {
        const id = event.account.id;
        assert(!this.#accounts.has(id), 'an account created once');
        const counters = new Counters(id);
        this.#accounts.set(id, counters);
        return [counters.balance()];
      }
      case 'AccountFrozen':
      case 'AccountUnfrozen':
      case 'AccountClosed':
        return [this.#counters(event.accountId).balance()];
      case 'PendingTransferPosted':
      case 'PendingTransferVoided':
        return this.#resolveHold(event);
      case 'PendingTransferExpired': {
        const debit = this.#counters(event.debitAccountId);
        const credit = this.#counters(event.creditAccountId);
        debit.debitsPending = nonNegative(debit.debitsPending - event.amount);
        credit.creditsPending = nonNegative(credit.creditsPending - event.amount);
        return [debit.balance(), credit.balance()];
      }
      case 'FundsReserved':
      case 'ReservationCommitted':
      case 'ReservationReleased':
        return this.#sagaStep(event);
      default:
        return assertNever(event, 'event');
    }
  }

  /** The common event, kept short: both accounts found once, one counter each moved. */
  #transferCreated(spec: EventOf<'TransferCreated'>['transfer']): AccountBalance[] {
    const debit = this.#counters(spec.debitAccountId);
    const credit = this.#counters(spec.creditAccountId);
    const amount = spec.amount;
    if (spec.pending) {
      debit.debitsPending += amount;
      credit.creditsPending += amount;
    } else {
      debit.debitsPosted += amount;
      credit.creditsPosted += amount;
    }
    return [debit.balance(), credit.balance()];
  }

  #resolveHold(
    event: EventOf<'PendingTransferPosted' | 'PendingTransferVoided'>,
  ): AccountBalance[] {
    const debit = this.#counters(event.debitAccountId);
    const credit = this.#counters(event.creditAccountId);
    debit.debitsPending = nonNegative(debit.debitsPending - event.pendingAmount);
    credit.creditsPending = nonNegative(credit.creditsPending - event.pendingAmount);
    if (event.type === 'PendingTransferPosted') {
      debit.debitsPosted += event.amount;
      credit.creditsPosted += event.amount;
    }
    return [debit.balance(), credit.balance()];
  }

  /** This shard's side of a saga step: each leg moves its local account's counters. */
  #sagaStep(
    event: EventOf<'FundsReserved' | 'ReservationCommitted' | 'ReservationReleased'>,
  ): AccountBalance[] {
    const touched = new Set<Counters>();
    for (const leg of event.legs) {
      const spec = leg.transfer;
      const debit = leg.side === 'debit';
      const counters = this.#counters(debit ? spec.debitAccountId : spec.creditAccountId);
      const held = event.type === 'FundsReserved' ? spec.amount : -spec.amount;
      if (debit) counters.debitsPending = nonNegative(counters.debitsPending + held);
      else counters.creditsPending = nonNegative(counters.creditsPending + held);
      if (event.type === 'ReservationCommitted') {
        const posted = event.amount ?? spec.amount;
        assert(posted <= spec.amount, 'a hold posts at most what it held');
        if (debit) counters.debitsPosted += posted;
        else counters.creditsPosted += posted;
      }
      touched.add(counters);
    }
    return Array.from(touched, (counters) => counters.balance());
  }

  #counters(accountId: string): Counters {
    const counters = this.#accounts.get(accountId);
    assert(counters !== undefined, 'an event names an account created before it');
    return counters;
  }
}

/** A counter after a move that takes something away (amounts added are never negative). */
function nonNegative(counter: bigint): bigint {
  assert(counter >= 0n, 'a counter never goes below zero');
  return counter;
}
