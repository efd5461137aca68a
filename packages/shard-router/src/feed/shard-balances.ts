// The counters of one shard's accounts as the change feed walks its log, so that each event it
// hands out carries the balances of its accounts after it. They move exactly as ledger-core's
// evolve() moves them; every account lives on one shard, so a shard's log alone decides them.

import type { LedgerEvent } from '@shardledger/ledger-core';
import { assert, assertNever } from '@shardledger/ledger-core/internals';
import type { AccountBalance } from './change-types.js';

/** debitsPosted, creditsPosted, debitsPending, creditsPending (ledger-core's balance.ts order). */
type Counters = [bigint, bigint, bigint, bigint];

const DEBITS_POSTED = 0;
const CREDITS_POSTED = 1;
const DEBITS_PENDING = 2;
const CREDITS_PENDING = 3;

type EventOf<Type extends LedgerEvent['type']> = Extract<LedgerEvent, { type: Type }>;

function balanceOf(accountId: string, counters: Counters): AccountBalance {
  const [debitsPosted, creditsPosted, debitsPending, creditsPending] = counters;
  return {
    accountId,
    debitsPosted,
    creditsPosted,
    debitsPending,
    creditsPending,
  };
}

/** One shard's accounts and their counters, moved event by event in sequence order. Memory: one
 * entry per account of the shard, whatever the length of the log. */
export class ShardBalances {
  readonly #accounts = new Map<string, Counters>();
  /** The sequence of the last event applied. */
  #sequence = 0;

  get sequence(): number {
    return this.#sequence;
  }

  /** Moves the counters by the event at `sequence` (the one after the last applied) and returns
   * the balances after it of the accounts it names. */
  apply(sequence: number, event: LedgerEvent): AccountBalance[] {
    assert(sequence === this.#sequence + 1, 'events applied in sequence order');
    this.#sequence = sequence;
    switch (event.type) {
      case 'AccountCreated': {
        const id = event.account.id;
        assert(!this.#accounts.has(id), 'an account created once');
        const counters: Counters = [0n, 0n, 0n, 0n];
        this.#accounts.set(id, counters);
        return [balanceOf(id, counters)];
      }
      case 'AccountFrozen':
      case 'AccountUnfrozen':
      case 'AccountClosed':
        return [balanceOf(event.accountId, this.#counters(event.accountId))];
      case 'TransferCreated': {
        const { debitAccountId, creditAccountId, amount, pending } = event.transfer;
        const debit = this.#move(debitAccountId, pending ? DEBITS_PENDING : DEBITS_POSTED, amount);
        const credit = this.#move(
          creditAccountId,
          pending ? CREDITS_PENDING : CREDITS_POSTED,
          amount,
        );
        return [balanceOf(debitAccountId, debit), balanceOf(creditAccountId, credit)];
      }
      case 'PendingTransferPosted':
      case 'PendingTransferVoided':
        return this.#resolveHold(event);
      case 'PendingTransferExpired': {
        const { debitAccountId, creditAccountId, amount } = event;
        const debit = this.#move(debitAccountId, DEBITS_PENDING, -amount);
        const credit = this.#move(creditAccountId, CREDITS_PENDING, -amount);
        return [balanceOf(debitAccountId, debit), balanceOf(creditAccountId, credit)];
      }
      case 'FundsReserved':
      case 'ReservationCommitted':
      case 'ReservationReleased':
        return this.#sagaStep(event);
      default:
        return assertNever(event, 'event');
    }
  }

  #resolveHold(
    event: EventOf<'PendingTransferPosted' | 'PendingTransferVoided'>,
  ): AccountBalance[] {
    const { debitAccountId, creditAccountId } = event;
    const debit = this.#move(debitAccountId, DEBITS_PENDING, -event.pendingAmount);
    const credit = this.#move(creditAccountId, CREDITS_PENDING, -event.pendingAmount);
    if (event.type === 'PendingTransferPosted') {
      this.#move(debitAccountId, DEBITS_POSTED, event.amount);
      this.#move(creditAccountId, CREDITS_POSTED, event.amount);
    }
    return [balanceOf(debitAccountId, debit), balanceOf(creditAccountId, credit)];
  }

  /** This shard's side of a saga step: each leg moves its local account's counters. */
  #sagaStep(
    event: EventOf<'FundsReserved' | 'ReservationCommitted' | 'ReservationReleased'>,
  ): AccountBalance[] {
    const touched = new Map<string, Counters>();
    for (const leg of event.legs) {
      const spec = leg.transfer;
      const debit = leg.side === 'debit';
      const accountId = debit ? spec.debitAccountId : spec.creditAccountId;
      const pendingIndex = debit ? DEBITS_PENDING : CREDITS_PENDING;
      let counters: Counters;
      if (event.type === 'FundsReserved') {
        counters = this.#move(accountId, pendingIndex, spec.amount);
      } else {
        counters = this.#move(accountId, pendingIndex, -spec.amount);
        if (event.type === 'ReservationCommitted') {
          const posted = event.amount ?? spec.amount;
          assert(posted <= spec.amount, 'a hold posts at most what it held');
          this.#move(accountId, debit ? DEBITS_POSTED : CREDITS_POSTED, posted);
        }
      }
      touched.set(accountId, counters);
    }
    return Array.from(touched, ([accountId, counters]) => balanceOf(accountId, counters));
  }

  #counters(accountId: string): Counters {
    const counters = this.#accounts.get(accountId);
    assert(counters !== undefined, 'an event names an account created before it');
    return counters;
  }

  #move(accountId: string, index: number, amount: bigint): Counters {
    const counters = this.#counters(accountId);
    const next = (counters[index] as bigint) + amount;
    assert(next >= 0n, 'a counter never goes below zero');
    counters[index] = next;
    return counters;
  }
}
