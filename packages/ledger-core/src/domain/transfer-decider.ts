// Decisions on transfers within one shard: CreateTransfer and CreateTransferGroup, and the
// balance check of one side of a transfer (checkSide) that the reservation decider shares.

import type { RejectionCode } from '../errors.js';
import { assert } from '../assert.js';
import { limits } from '../limits.js';
import {
  addCounter,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  exceeds,
  overflows,
  sumWith,
  toSmall,
  type CounterIndex,
  type Counters,
} from './balance.js';
import { statusRejectionOf } from './account-decider.js';
import {
  accepted,
  CounterOverlay,
  EXISTS,
  groupFailure,
  liveRecord,
  NO_EVENTS,
  rejection,
  sameTransfer,
} from './decision.js';
import type { AccountState, LedgerState } from './state.js';
import {
  accountFlags,
  type Decision,
  type DecideContext,
  type LedgerEvent,
  type TransferSpec,
} from './types.js';

/** Checks one transfer against the accounts' current counters. */
function checkTransfer(
  spec: TransferSpec,
  debit: AccountState | undefined,
  credit: AccountState | undefined,
  counters: { debit: Counters; credit: Counters } | null,
): RejectionCode | null {
  if (spec.debitAccountId === spec.creditAccountId) return 'ACCOUNTS_MUST_BE_DIFFERENT';
  if (debit === undefined || credit === undefined) return 'ACCOUNT_NOT_FOUND';
  const status = statusRejectionOf(debit.flags | credit.flags);
  if (status !== null) return status;
  if (debit.currency !== spec.currency || credit.currency !== spec.currency)
    return 'CURRENCY_MISMATCH';
  // A currency code names its scale (currency.ts), so one code never moves money between scales.
  assert(debit.scale === credit.scale, 'accounts of one currency have one scale');
  const debitCounters = counters === null ? debit.counters : counters.debit;
  const creditCounters = counters === null ? credit.counters : counters.credit;
  const small = toSmall(spec.amount);
  return (
    checkSide(DEBIT_SIDE, spec.amount, debit, debitCounters, small) ??
    checkSide(CREDIT_SIDE, spec.amount, credit, creditCounters, small)
  );
}

/** One side of a transfer as its balance check sees it: the counters the amount adds to, the
 * account flag that limits the side by the other side's posted total (`limit`), and the code of a
 * transfer past that limit. */
export interface TransferSide {
  readonly posted: CounterIndex;
  readonly pending: CounterIndex;
  readonly limitFlag: number;
  readonly limit: CounterIndex;
  readonly code: RejectionCode;
}

export const DEBIT_SIDE: TransferSide = {
  posted: DEBITS_POSTED,
  pending: DEBITS_PENDING,
  limitFlag: accountFlags.debitsMustNotExceedCredits,
  limit: CREDITS_POSTED,
  code: 'INSUFFICIENT_FUNDS',
};

export const CREDIT_SIDE: TransferSide = {
  posted: CREDITS_POSTED,
  pending: CREDITS_PENDING,
  limitFlag: accountFlags.creditsMustNotExceedDebits,
  limit: DEBITS_POSTED,
  code: 'EXCEEDS_DEBITS',
};

/** Checks one side of a transfer of `amount` against `counters`: overflow of its posted + pending
 * + amount, then the account's flag that limits that sum by the other side's posted total. */
export function checkSide(
  side: TransferSide,
  amount: bigint,
  account: AccountState,
  counters: Counters,
  small: number = toSmall(amount),
): RejectionCode | null {
  const sum = sumWith(counters, side.posted, side.pending, amount, small);
  if (overflows(sum)) return 'OVERFLOW';
  if ((account.flags & side.limitFlag) !== 0 && exceeds(sum, counters, side.limit))
    return side.code;
  return null;
}

/** CreateTransfer: one transfer, posted or pending. */
export function decideCreateTransfer(
  spec: TransferSpec,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const existing = liveRecord(context, spec.id);
  if (existing !== undefined) {
    // A saga side still in flight may yet be released: answering `exists` would be a lie.
    if (existing.state === 'reserved') return rejection('TRANSFER_IN_FLIGHT', 'transfer');
    return sameTransfer(existing, spec)
      ? EXISTS
      : rejection('EXISTS_WITH_DIFFERENT_FIELDS', 'transfer');
  }
  const code = checkTransfer(
    spec,
    state.accounts.get(spec.debitAccountId),
    state.accounts.get(spec.creditAccountId),
    null,
  );
  if (code !== null) return rejection(code);
  if (spec.pending && state.pending.size >= limits.pendingOpenMax)
    return rejection('TOO_MANY_PENDING');
  return accepted([{ type: 'TransferCreated', timestamp: context.timestamp, transfer: spec }]);
}

/** CreateTransferGroup: every transfer of the group or none, each checked against the counters
 * as the transfers before it leave them. */
export function decideTransferGroup(
  specs: readonly TransferSpec[],
  state: LedgerState,
  context: DecideContext,
): Decision {
  assert(specs.length > 0, 'empty group');
  const ids = new Set<string>();
  const codes: (RejectionCode | null)[] = specs.map((spec) => {
    if (ids.has(spec.id)) return 'DUPLICATE_ID_IN_GROUP';
    ids.add(spec.id);
    return null;
  });
  if (codes.some((code) => code !== null)) return groupFailure(codes);
  // A group is applied whole or not at all, so it exists whole or not at all.
  const records = specs.map((spec) => liveRecord(context, spec.id));
  if (records.some((record) => record !== undefined)) {
    const each = records.map(
      (record, index) => record !== undefined && sameTransfer(record, specs[index] as TransferSpec),
    );
    const inFlight = records.map((record) => record !== undefined && record.state === 'reserved');
    if (inFlight.some(Boolean))
      return groupFailure(inFlight.map((held) => (held ? 'TRANSFER_IN_FLIGHT' : null)));
    if (each.every(Boolean)) return { ok: true, events: NO_EVENTS, exists: true, existsEach: each };
    return groupFailure(each.map((same) => (same ? null : 'EXISTS_WITH_DIFFERENT_FIELDS')));
  }
  const overlay = new CounterOverlay();
  let pendingCount = state.pending.size;
  const events: LedgerEvent[] = [];
  for (const [index, spec] of specs.entries()) {
    const debit = state.accounts.get(spec.debitAccountId);
    const credit = state.accounts.get(spec.creditAccountId);
    const counters =
      debit !== undefined && credit !== undefined
        ? { debit: overlay.of(debit), credit: overlay.of(credit) }
        : null;
    let code = checkTransfer(spec, debit, credit, counters ?? null);
    if (code === null && spec.pending && pendingCount >= limits.pendingOpenMax)
      code = 'TOO_MANY_PENDING';
    if (code !== null || counters === null) {
      codes[index] = code ?? 'ACCOUNT_NOT_FOUND';
      continue;
    }
    if (spec.pending) pendingCount += 1;
    addCounter(counters.debit, spec.pending ? DEBITS_PENDING : DEBITS_POSTED, spec.amount);
    addCounter(counters.credit, spec.pending ? CREDITS_PENDING : CREDITS_POSTED, spec.amount);
    events.push({
      type: 'TransferCreated',
      timestamp: context.timestamp + BigInt(index),
      transfer: spec,
    });
  }
  if (codes.some((code) => code !== null)) return groupFailure(codes);
  return accepted(events);
}
