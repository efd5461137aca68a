// decide(command, state, context) -> events | rejection. Pure: no I/O, clock or randomness; the
// timestamp and the on-disk id index come in through `context`. Never mutates `state`.
// Event i of a decision gets timestamp context.timestamp + i.

import type { RejectionCode } from '../errors.js';
import { assert, assertNever } from '../assert.js';
import { limits } from '../limits.js';
import {
  addCounter,
  copyCounters,
  CREDITS_PENDING,
  CREDITS_POSTED,
  DEBITS_PENDING,
  DEBITS_POSTED,
  exceeds,
  overflows,
  sumWith,
  toSmall,
  type Counters,
} from './balance.js';
import {
  expiresAtOf,
  holdLegOf,
  type AccountState,
  type LedgerState,
  type ReservationState,
} from './state.js';
import {
  accountFlags,
  type AccountSpec,
  type Command,
  type Decision,
  type DecideContext,
  type LedgerEvent,
  type PendingResolutionSpec,
  type Rejection,
  type ReservationCommitted,
  type ReservationLeg,
  type TransferRecord,
  type TransferSpec,
} from './types.js';
import { metadataEqual } from './validate.js';

const NO_EVENTS: readonly LedgerEvent[] = Object.freeze([]);
const EXISTS: Decision = Object.freeze({ ok: true, events: NO_EVENTS, exists: true });

function rejection(code: RejectionCode, detail?: string): Rejection {
  return detail === undefined ? { ok: false, code } : { ok: false, code, detail };
}

function accepted(events: readonly LedgerEvent[]): Decision {
  return { ok: true, events, exists: false };
}

export function decide(command: Command, state: LedgerState, context: DecideContext): Decision {
  switch (command.type) {
    case 'CreateAccount':
      return decideCreateAccount(command.account, state, context);
    case 'CreateTransfer':
      return decideCreateTransfer(command.transfer, state, context);
    case 'CreateTransferGroup':
      return decideTransferGroup(command.transfers, state, context);
    case 'PostPendingTransfer':
      return decideResolution(command.resolution, 'post', state, context);
    case 'VoidPendingTransfer':
      return decideResolution(command.resolution, 'void', state, context);
    case 'ExpirePendingTransfers':
      return decideExpiry(state, context);
    case 'ReserveFunds':
      return decideReserve(command, state, context);
    case 'CommitReservation':
      return decideCommit(command, state, context);
    case 'ReleaseReservation':
      return decideRelease(command, state, context);
    default:
      return assertNever(command, 'command');
  }
}

function decideCreateAccount(
  spec: AccountSpec,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const existing = state.accounts.get(spec.id);
  if (existing !== undefined) {
    const same =
      existing.currency === spec.currency &&
      existing.flags === spec.flags &&
      metadataEqual(existing.metadata, spec.metadata);
    return same ? EXISTS : rejection('EXISTS_WITH_DIFFERENT_FIELDS', 'account');
  }
  return accepted([{ type: 'AccountCreated', timestamp: context.timestamp, account: spec }]);
}

/** Whether a stored transfer is an identical resubmission of `spec`. */
export function sameTransfer(record: TransferRecord, spec: TransferSpec): boolean {
  return (
    record.kind === 'transfer' &&
    record.debitAccountId === spec.debitAccountId &&
    record.creditAccountId === spec.creditAccountId &&
    record.amount === spec.amount &&
    record.currency === spec.currency &&
    record.pending === spec.pending &&
    record.timeoutMs === spec.timeoutMs &&
    metadataEqual(record.metadata, spec.metadata)
  );
}

/** A record that still owns its id ('released' saga sides free the id for a new attempt). */
function liveRecord(context: DecideContext, id: string): TransferRecord | undefined {
  const record = context.transfers.get(id);
  return record === undefined || record.state === 'released' ? undefined : record;
}

/** Checks one transfer against the accounts' current counters. */
function checkTransfer(
  spec: TransferSpec,
  debit: AccountState | undefined,
  credit: AccountState | undefined,
  counters: { debit: Counters; credit: Counters } | null,
): RejectionCode | null {
  if (spec.debitAccountId === spec.creditAccountId) return 'ACCOUNTS_MUST_BE_DIFFERENT';
  if (debit === undefined || credit === undefined) return 'ACCOUNT_NOT_FOUND';
  if (debit.currency !== spec.currency || credit.currency !== spec.currency)
    return 'CURRENCY_MISMATCH';
  const debitCounters = counters === null ? debit.counters : counters.debit;
  const creditCounters = counters === null ? credit.counters : counters.credit;
  const small = toSmall(spec.amount);
  return (
    checkDebitSide(spec.amount, debit, debitCounters, small) ??
    checkCreditSide(spec.amount, credit, creditCounters, small)
  );
}

function checkDebitSide(
  amount: bigint,
  account: AccountState,
  counters: Counters,
  small: number = toSmall(amount),
): RejectionCode | null {
  const debits = sumWith(counters, DEBITS_POSTED, DEBITS_PENDING, amount, small);
  if (overflows(debits)) return 'OVERFLOW';
  if (
    (account.flags & accountFlags.debitsMustNotExceedCredits) !== 0 &&
    exceeds(debits, counters, CREDITS_POSTED)
  ) {
    return 'INSUFFICIENT_FUNDS';
  }
  return null;
}

function checkCreditSide(
  amount: bigint,
  account: AccountState,
  counters: Counters,
  small: number = toSmall(amount),
): RejectionCode | null {
  const credits = sumWith(counters, CREDITS_POSTED, CREDITS_PENDING, amount, small);
  if (overflows(credits)) return 'OVERFLOW';
  if (
    (account.flags & accountFlags.creditsMustNotExceedDebits) !== 0 &&
    exceeds(credits, counters, DEBITS_POSTED)
  ) {
    return 'EXCEEDS_DEBITS';
  }
  return null;
}

function decideCreateTransfer(
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

/** Scratch copies of the counters a group or reservation touches, so that later members see the
 * effect of earlier ones without mutating state. */
class CounterOverlay {
  private readonly copies = new Map<string, Counters>();
  of(account: AccountState): Counters {
    let copy = this.copies.get(account.id);
    if (copy === undefined) {
      copy = copyCounters(account.counters);
      this.copies.set(account.id, copy);
    }
    return copy;
  }
}

function groupFailure(codes: (RejectionCode | null)[]): Rejection {
  const first = codes.find((code) => code !== null) as RejectionCode;
  return { ok: false, code: first, codes: codes.map((code) => code ?? 'LINKED_TRANSFER_FAILED') };
}

function decideTransferGroup(
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

function resolutionCodeOf(record: TransferRecord | undefined): RejectionCode {
  if (record === undefined || record.state === 'reserved' || record.state === 'released')
    return 'PENDING_NOT_FOUND';
  if (record.kind !== 'transfer' || !record.pending) return 'NOT_PENDING';
  if (record.state === 'posted') return 'PENDING_ALREADY_POSTED';
  if (record.state === 'voided') return 'PENDING_ALREADY_VOIDED';
  if (record.state === 'expired') return 'PENDING_EXPIRED';
  return 'PENDING_NOT_FOUND';
}

/** A post or void whose own id is taken: `exists` when it is this very resolution, else refused;
 * null when the id is free. */
function takenResolution(
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  context: DecideContext,
): Decision | null {
  const existing = liveRecord(context, spec.id);
  if (existing === undefined) return null;
  const same =
    existing.kind === action &&
    existing.pendingId === spec.pendingId &&
    (spec.amount === null || existing.amount === spec.amount) &&
    metadataEqual(existing.metadata, spec.metadata);
  return same ? EXISTS : rejection('EXISTS_WITH_DIFFERENT_FIELDS', action);
}

function decideResolution(
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  state: LedgerState,
  context: DecideContext,
): Decision {
  const taken = takenResolution(spec, action, context);
  if (taken !== null) return taken;
  const hold = state.pending.get(spec.pendingId);
  if (hold === undefined) return rejection(resolutionCodeOf(context.transfers.get(spec.pendingId)));
  if (hold.expiresAt !== 0n && hold.expiresAt <= context.timestamp)
    return rejection('PENDING_EXPIRED');
  const amount = action === 'void' ? hold.amount : (spec.amount ?? hold.amount);
  if (amount > hold.amount) return rejection('AMOUNT_EXCEEDS_PENDING');
  const resolved = {
    timestamp: context.timestamp,
    id: spec.id,
    pendingId: spec.pendingId,
    amount,
    pendingAmount: hold.amount,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    currency: hold.currency,
    metadata: spec.metadata,
  };
  const type = action === 'post' ? 'PendingTransferPosted' : 'PendingTransferVoided';
  return accepted([{ type, ...resolved }]);
}

function decideExpiry(state: LedgerState, context: DecideContext): Decision {
  const due = state.expiries.due(context.timestamp).filter((id) => state.pending.has(id));
  if (due.length === 0) return accepted(NO_EVENTS);
  return accepted(
    due.map((pendingId, index) => {
      const hold = state.pending.get(pendingId);
      assert(hold !== undefined, 'due hold is open');
      return {
        type: 'PendingTransferExpired' as const,
        timestamp: context.timestamp + BigInt(index),
        pendingId,
        amount: hold.amount,
        debitAccountId: hold.debitAccountId,
        creditAccountId: hold.creditAccountId,
        currency: hold.currency,
      };
    }),
  );
}

/** Checks one leg; with an overlay, adds an accepted leg to it for the legs after it. Without
 * one (a one-leg reservation) checks against the account's own counters. */
function checkLeg(
  leg: ReservationLeg,
  state: LedgerState,
  overlay: CounterOverlay | null,
): RejectionCode | null {
  const spec = leg.transfer;
  if (spec.debitAccountId === spec.creditAccountId) return 'ACCOUNTS_MUST_BE_DIFFERENT';
  const account = state.accounts.get(
    leg.side === 'debit' ? spec.debitAccountId : spec.creditAccountId,
  );
  if (account === undefined) return 'ACCOUNT_NOT_FOUND';
  if (account.currency !== spec.currency) return 'CURRENCY_MISMATCH';
  const counters = overlay === null ? account.counters : overlay.of(account);
  const code =
    leg.side === 'debit'
      ? checkDebitSide(spec.amount, account, counters)
      : checkCreditSide(spec.amount, account, counters);
  if (code === null && overlay !== null)
    addCounter(counters, leg.side === 'debit' ? DEBITS_PENDING : CREDITS_PENDING, spec.amount);
  return code;
}

/** Two legs may share a transfer id only as the two sides of one transfer (both accounts on this
 * shard); anything else would put two different transfers under one id. */
function duplicateLeg(legs: readonly ReservationLeg[], index: number): boolean {
  const leg = legs[index] as ReservationLeg;
  for (let other = 0; other < index; other += 1) {
    const earlier = legs[other] as ReservationLeg;
    if (earlier.transfer.id !== leg.transfer.id) continue;
    if (earlier.side === leg.side || !sameSpec(earlier.transfer, leg.transfer)) return true;
  }
  return false;
}

function sameSpec(left: TransferSpec, right: TransferSpec): boolean {
  return (
    left.debitAccountId === right.debitAccountId &&
    left.creditAccountId === right.creditAccountId &&
    left.amount === right.amount &&
    left.currency === right.currency &&
    left.pending === right.pending &&
    left.timeoutMs === right.timeoutMs &&
    metadataEqual(left.metadata, right.metadata)
  );
}

function decideReserve(
  command: Extract<Command, { type: 'ReserveFunds' }>,
  state: LedgerState,
  context: DecideContext,
): Decision {
  assert(command.legs.length > 0, 'reservation without legs');
  if (state.reservations.has(command.sagaId)) return EXISTS;
  const outcome = context.sagas.get(command.sagaId);
  if (outcome === 'released') return rejection('RESERVATION_RELEASED');
  if (outcome !== undefined) return EXISTS;
  if (command.legs.length === 1)
    return decideReserveOne(command, command.legs[0] as ReservationLeg, state, context);
  // A new saga for transfers that are already posted here (a resubmission after success, or
  // after a crash that the recovery rolled forward) exists as a whole: nothing to reserve.
  const posted = command.legs.map((leg) => {
    const record = liveRecord(context, leg.transfer.id);
    return record !== undefined && record.state === 'posted' && sameTransfer(record, leg.transfer);
  });
  if (posted.every(Boolean))
    return { ok: true, events: NO_EVENTS, exists: true, existsEach: posted };
  const overlay = new CounterOverlay();
  const codes = command.legs.map((leg, index): RejectionCode | null => {
    // A hold across shards is one transfer; in an atomic group it is not supported.
    if (leg.transfer.pending) return 'CROSS_SHARD_PENDING_UNSUPPORTED';
    if (duplicateLeg(command.legs, index)) return 'DUPLICATE_ID_IN_GROUP';
    const record = liveRecord(context, leg.transfer.id);
    if (record !== undefined)
      return record.state === 'reserved' ? 'TRANSFER_IN_FLIGHT' : 'EXISTS_WITH_DIFFERENT_FIELDS';
    return checkLeg(leg, state, overlay);
  });
  if (codes.some((code) => code !== null)) return groupFailure(codes);
  return accepted([
    {
      type: 'FundsReserved',
      timestamp: context.timestamp,
      sagaId: command.sagaId,
      participants: command.participants,
      legs: command.legs,
    },
  ]);
}

/** decideReserve's steps for one leg (each side of the router's one-transfer sagas), without
 * the per-leg arrays, closures and counter overlay that several legs need; same decisions. */
function decideReserveOne(
  command: Extract<Command, { type: 'ReserveFunds' }>,
  leg: ReservationLeg,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const record = liveRecord(context, leg.transfer.id);
  if (record !== undefined) {
    // Already here (a resubmission after success or roll-forward; for a hold, in whatever state
    // it is now, as one shard answers): exists as a whole.
    if (
      record.state !== 'reserved' &&
      (record.state === 'posted' || leg.transfer.pending) &&
      sameTransfer(record, leg.transfer)
    ) {
      return { ok: true, events: NO_EVENTS, exists: true, existsEach: [true] };
    }
    return groupFailure([
      record.state === 'reserved' ? 'TRANSFER_IN_FLIGHT' : 'EXISTS_WITH_DIFFERENT_FIELDS',
    ]);
  }
  const code = checkLeg(leg, state, null);
  if (code !== null) return groupFailure([code]);
  return accepted([
    {
      type: 'FundsReserved',
      timestamp: context.timestamp,
      sagaId: command.sagaId,
      participants: command.participants,
      legs: command.legs,
    },
  ]);
}

function decideCommit(
  command: Extract<Command, { type: 'CommitReservation' }>,
  state: LedgerState,
  context: DecideContext,
): Decision {
  const sagaId = command.sagaId;
  if (command.resolution !== undefined)
    return decideHoldResolution(sagaId, command.resolution, 'post', state, context);
  const reservation = state.reservations.get(sagaId);
  if (reservation !== undefined) {
    // The credit side of a hold posts what the debit side decided (and already checked).
    const amount = command.amount;
    if (amount !== undefined) {
      const hold = holdLegOf(reservation);
      if (hold === undefined || amount < 1n || amount > hold.transfer.amount)
        return rejection('AMOUNT_EXCEEDS_PENDING');
      return accepted([committedEvent(context, reservation, amount, hold.transfer.amount)]);
    }
    return accepted([
      {
        type: 'ReservationCommitted',
        timestamp: context.timestamp,
        sagaId,
        legs: reservation.legs,
      },
    ]);
  }
  const outcome = context.sagas.get(sagaId);
  if (outcome === 'committed') return EXISTS;
  return rejection(outcome === 'released' ? 'RESERVATION_RELEASED' : 'RESERVATION_NOT_FOUND');
}

/** The post or void of a cross-shard hold, on its debit shard, which decides it: the same checks,
 * in the same order, as decideResolution makes of a hold on one shard. The credit shard then
 * follows with the amount decided (CommitReservation.amount) or a release. */
function decideHoldResolution(
  sagaId: string,
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  state: LedgerState,
  context: DecideContext,
): Decision {
  const taken = takenResolution(spec, action, context);
  if (taken !== null) return taken;
  const reservation = state.reservations.get(sagaId);
  const leg = reservation === undefined ? undefined : holdLegOf(reservation);
  if (reservation === undefined || leg === undefined || leg.transfer.id !== spec.pendingId)
    return rejection(resolutionCodeOf(context.transfers.get(spec.pendingId)));
  const hold = leg.transfer;
  const expiresAt = expiresAtOf(reservation.timestamp, hold.timeoutMs);
  if (expiresAt !== 0n && expiresAt <= context.timestamp) return rejection('PENDING_EXPIRED');
  const amount = action === 'void' ? hold.amount : (spec.amount ?? hold.amount);
  if (amount > hold.amount) return rejection('AMOUNT_EXCEEDS_PENDING');
  const resolution = { id: spec.id, metadata: spec.metadata };
  if (action === 'void') {
    return accepted([
      {
        type: 'ReservationReleased',
        timestamp: context.timestamp,
        sagaId,
        legs: reservation.legs,
        reason: 'voided',
        resolution,
      },
    ]);
  }
  return accepted([{ ...committedEvent(context, reservation, amount, hold.amount), resolution }]);
}

/** A hold's commit: the amount posted is in the event only when it is less than the hold. */
function committedEvent(
  context: DecideContext,
  reservation: ReservationState,
  amount: bigint,
  held: bigint,
): ReservationCommitted {
  const event: ReservationCommitted = {
    type: 'ReservationCommitted',
    timestamp: context.timestamp,
    sagaId: reservation.sagaId,
    legs: reservation.legs,
  };
  return amount === held ? event : { ...event, amount };
}

function decideRelease(
  command: Extract<Command, { type: 'ReleaseReservation' }>,
  state: LedgerState,
  context: DecideContext,
): Decision {
  if (command.resolution !== undefined)
    return decideHoldResolution(command.sagaId, command.resolution, 'void', state, context);
  const reservation = state.reservations.get(command.sagaId);
  const legs = reservation === undefined ? [] : reservation.legs;
  if (reservation === undefined) {
    const outcome = context.sagas.get(command.sagaId);
    if (outcome === 'released') return EXISTS;
    if (outcome === 'committed') return rejection('RESERVATION_COMMITTED');
  }
  // Without a reservation here this is a tombstone: a late ReserveFunds of the saga is refused.
  return accepted([
    {
      type: 'ReservationReleased',
      timestamp: context.timestamp,
      sagaId: command.sagaId,
      legs,
      reason: command.reason,
    },
  ]);
}
