// evolve(state, event) -> state. Total over event types; applies an event that decide produced
// (or that replay reads back) to the state. Mutates and returns `state`: state is the single
// in-memory copy a shard owns, and copying it per event would cost more than the event itself.

import { AssertionError, assert, assertNever } from '../assert.js';
import {
  addCounter,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  subtractCounter,
  toSmall,
  type CounterIndex,
} from './balance.js';
import {
  expiresAtOf,
  newAccountState,
  totalsFor,
  type AccountState,
  type CurrencyTotals,
  type LedgerState,
} from './state.js';
import { isSettled } from './account-decider.js';
import {
  accountFlags,
  type AccountClosed,
  type AccountFrozen,
  type AccountUnfrozen,
  type LedgerEvent,
  type ReservationLeg,
} from './types.js';

// Indices into CurrencyTotals.saga.
const SAGA_DEBITS_POSTED = 0;
const SAGA_CREDITS_POSTED = 1;
const RESERVED_DEBITS = 2;
const RESERVED_CREDITS = 3;

function account(state: LedgerState, id: string): AccountState {
  const found = state.accounts.get(id);
  // Not assert(..., `...${id}`): the message would be built on every call of this hot path.
  if (found === undefined)
    throw new AssertionError(`event names an account this shard does not have: ${id}`);
  return found;
}

// The directions of move.
const ADD = 1;
const SUBTRACT = -1;

/** Moves an account's counter and its currency's totals (looked up once per event by the caller:
 * the event's accounts share one currency) by `amount`, up (ADD) or down (SUBTRACT). Each call
 * names its direction as a constant, so the branch folds away where V8 inlines it. */
function move(
  totals: CurrencyTotals,
  target: AccountState,
  index: CounterIndex,
  direction: typeof ADD | typeof SUBTRACT,
  amount: bigint,
  small: number = toSmall(amount),
): void {
  if (direction === ADD) {
    addCounter(target.counters, index, amount, small);
    addCounter(totals.accounts, index, amount, small);
  } else {
    subtractCounter(target.counters, index, amount, small);
    subtractCounter(totals.accounts, index, amount, small);
  }
}

// eslint-disable-next-line max-lines-per-function -- exhaustive switch over event types
export function evolve(state: LedgerState, event: LedgerEvent): LedgerState {
  assert(event.timestamp > state.lastTimestamp, 'event timestamps strictly increase');
  switch (event.type) {
    case 'AccountCreated': {
      assert(!state.accounts.has(event.account.id), 'account created twice');
      const ordinal = state.accounts.size;
      state.accounts.set(
        event.account.id,
        newAccountState(
          event.account,
          ordinal,
          event.timestamp,
          state.counterRows.counters(ordinal),
        ),
      );
      totalsFor(state, event.account.currency);
      state.accountOrder.add(event.account.id, event.account.currency, ordinal);
      break;
    }
    case 'AccountFrozen':
    case 'AccountUnfrozen':
    case 'AccountClosed': {
      const target = account(state, event.accountId);
      assert((target.flags & accountFlags.closed) === 0, 'a closed account changes no more');
      state.accounts.set(event.accountId, { ...target, flags: statusFlagsAfter(target, event) });
      break;
    }
    case 'TransferCreated': {
      const spec = event.transfer;
      const debit = account(state, spec.debitAccountId);
      const credit = account(state, spec.creditAccountId);
      const totals = totalsFor(state, debit.currency);
      if (spec.pending) {
        move(totals, debit, DEBITS_PENDING, ADD, spec.amount);
        move(totals, credit, CREDITS_PENDING, ADD, spec.amount);
        const expiresAt = expiresAtOf(event.timestamp, spec.timeoutMs);
        assert(!state.pending.has(spec.id), 'pending transfer created twice');
        state.pending.set(spec.id, {
          id: spec.id,
          debitAccountId: spec.debitAccountId,
          creditAccountId: spec.creditAccountId,
          amount: spec.amount,
          currency: spec.currency,
          timestamp: event.timestamp,
          expiresAt,
        });
        if (expiresAt !== 0n) state.expiries.push({ expiresAt, id: spec.id });
      } else {
        const small = toSmall(spec.amount);
        move(totals, debit, DEBITS_POSTED, ADD, spec.amount, small);
        move(totals, credit, CREDITS_POSTED, ADD, spec.amount, small);
      }
      break;
    }
    case 'PendingTransferPosted':
    case 'PendingTransferVoided':
    case 'PendingTransferExpired': {
      const hold = state.pending.get(event.pendingId);
      assert(hold !== undefined, 'resolving a hold that is not open');
      assert(
        hold.amount === ('pendingAmount' in event ? event.pendingAmount : event.amount),
        'hold amount',
      );
      const debit = account(state, hold.debitAccountId);
      const credit = account(state, hold.creditAccountId);
      const totals = totalsFor(state, debit.currency);
      move(totals, debit, DEBITS_PENDING, SUBTRACT, hold.amount);
      move(totals, credit, CREDITS_PENDING, SUBTRACT, hold.amount);
      if (event.type === 'PendingTransferPosted') {
        assert(event.amount <= hold.amount, 'post within the hold');
        move(totals, debit, DEBITS_POSTED, ADD, event.amount);
        move(totals, credit, CREDITS_POSTED, ADD, event.amount);
      }
      state.pending.delete(event.pendingId);
      state.expiries.prune((id) => state.pending.has(id));
      break;
    }
    case 'FundsReserved': {
      assert(!state.reservations.has(event.sagaId), 'saga reserved twice');
      for (const leg of event.legs) applyLeg(state, leg, 'reserve');
      state.reservations.set(event.sagaId, {
        sagaId: event.sagaId,
        participants: event.participants,
        legs: event.legs,
        timestamp: event.timestamp,
      });
      break;
    }
    case 'ReservationCommitted':
    case 'ReservationReleased': {
      const reservation = state.reservations.get(event.sagaId);
      if (reservation === undefined) {
        assert(
          event.type === 'ReservationReleased' && event.legs.length === 0,
          'closing a saga that is not open',
        );
        break;
      }
      assert(reservation.legs.length === event.legs.length, 'saga legs match');
      const mode = event.type === 'ReservationCommitted' ? 'commit' : 'release';
      // A cross-shard hold posted in part: the hold is released whole, the amount posted.
      const posted = event.type === 'ReservationCommitted' ? event.amount : undefined;
      for (const leg of reservation.legs) applyLeg(state, leg, mode, posted);
      state.reservations.delete(event.sagaId);
      break;
    }
    default:
      assertNever(event, 'event');
  }
  state.lastTimestamp = event.timestamp;
  state.lastSequence += 1;
  return state;
}

/** An account's flags after a status event. Closing clears `frozen`: one status at a time. */
function statusFlagsAfter(
  target: AccountState,
  event: AccountFrozen | AccountUnfrozen | AccountClosed,
): number {
  switch (event.type) {
    case 'AccountFrozen':
      assert((target.flags & accountFlags.frozen) === 0, 'frozen twice');
      return target.flags | accountFlags.frozen;
    case 'AccountUnfrozen':
      assert((target.flags & accountFlags.frozen) !== 0, 'unfrozen while not frozen');
      return target.flags & ~accountFlags.frozen;
    case 'AccountClosed':
      assert(isSettled(target), 'closed with a balance');
      return (target.flags & ~accountFlags.frozen) | accountFlags.closed;
    default:
      return assertNever(event, 'account status event');
  }
}

function applyLeg(
  state: LedgerState,
  leg: ReservationLeg,
  mode: 'reserve' | 'commit' | 'release',
  posted?: bigint,
): void {
  const spec = leg.transfer;
  const isDebit = leg.side === 'debit';
  const target = account(state, isDebit ? spec.debitAccountId : spec.creditAccountId);
  // One totals lookup and one amount conversion per leg.
  const totals = totalsFor(state, target.currency);
  const amount = spec.amount;
  const small = toSmall(amount);
  const pendingIndex = isDebit ? DEBITS_PENDING : CREDITS_PENDING;
  const reservedIndex = isDebit ? RESERVED_DEBITS : RESERVED_CREDITS;
  if (mode === 'reserve') {
    move(totals, target, pendingIndex, ADD, amount, small);
    addCounter(totals.saga, reservedIndex, amount, small);
    return;
  }
  move(totals, target, pendingIndex, SUBTRACT, amount, small);
  subtractCounter(totals.saga, reservedIndex, amount, small);
  if (mode === 'commit') {
    const postedAmount = posted ?? amount;
    assert(postedAmount <= amount, 'a hold posts at most what it held');
    const postedSmall = posted === undefined ? small : toSmall(postedAmount);
    move(totals, target, isDebit ? DEBITS_POSTED : CREDITS_POSTED, ADD, postedAmount, postedSmall);
    addCounter(
      totals.saga,
      isDebit ? SAGA_DEBITS_POSTED : SAGA_CREDITS_POSTED,
      postedAmount,
      postedSmall,
    );
  }
}

/** Applies events in order; for replay and tests. */
export function evolveAll(state: LedgerState, events: Iterable<LedgerEvent>): LedgerState {
  for (const event of events) evolve(state, event);
  return state;
}
