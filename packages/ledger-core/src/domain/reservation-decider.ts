// Decisions on the saga steps of a transfer whose accounts live on two shards: ReserveFunds
// holds each leg's amount as pending on this shard, CommitReservation posts it and
// ReleaseReservation gives it back. A cross-shard hold (a pending transfer across shards) is
// posted or voided through the same two steps, decided on its debit shard.

import type { RejectionCode } from '../errors.js';
import { assert } from '../assert.js';
import { addCounter } from './balance.js';
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
import { checkResolution } from './resolution-decider.js';
import { expiresAtOf, holdLegOf, type LedgerState, type ReservationState } from './state.js';
import { checkSide, CREDIT_SIDE, DEBIT_SIDE } from './transfer-decider.js';
import type {
  Command,
  Decision,
  DecideContext,
  HoldResolution,
  PendingResolutionSpec,
  ReservationCommitted,
  ReservationLeg,
  ReservationReleased,
  TransferSpec,
} from './types.js';
import { metadataEqual } from './validate.js';

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
  // Each shard checks the account of its own side: a frozen or closed one refuses the saga.
  const status = statusRejectionOf(account.flags);
  if (status !== null) return status;
  if (account.currency !== spec.currency) return 'CURRENCY_MISMATCH';
  const counters = overlay === null ? account.counters : overlay.of(account);
  const side = leg.side === 'debit' ? DEBIT_SIDE : CREDIT_SIDE;
  const code = checkSide(side, spec.amount, account, counters);
  if (code === null && overlay !== null) addCounter(counters, side.pending, spec.amount);
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

/** ReserveFunds: holds every leg's amount as pending on its account, or refuses the whole saga. */
export function decideReserve(
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
  return reserved(command, context);
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
  return reserved(command, context);
}

/** ReserveFunds accepted: one FundsReserved that holds every leg. */
function reserved(
  command: Extract<Command, { type: 'ReserveFunds' }>,
  context: DecideContext,
): Decision {
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

/** CommitReservation: posts what the reservation held (for a cross-shard hold, the amount its
 * debit shard decided). */
export function decideCommit(
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
      const event = committedEvent(context, reservation, amount, hold.transfer.amount);
      return accepted([withFollowed(event, command.follows, hold)]);
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

/** The post or void of a cross-shard hold, on its debit shard, which decides it: the checks of a
 * hold on one shard (checkResolution), in the same order. The credit shard then follows with the
 * amount decided (CommitReservation.amount) or a release. */
function decideHoldResolution(
  sagaId: string,
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  state: LedgerState,
  context: DecideContext,
): Decision {
  const reservation = state.reservations.get(sagaId);
  const leg = reservation === undefined ? undefined : holdLegOf(reservation);
  const hold =
    reservation !== undefined && leg !== undefined && leg.transfer.id === spec.pendingId
      ? {
          amount: leg.transfer.amount,
          expiresAt: expiresAtOf(reservation.timestamp, leg.transfer.timeoutMs),
        }
      : undefined;
  const amount = checkResolution(spec, action, context, hold);
  if (typeof amount !== 'bigint') return amount;
  assert(reservation !== undefined && hold !== undefined, 'a checked hold is reserved here');
  if (action === 'post') {
    // The hold's debit account lives here; the router checks the credit shard's account.
    const status = statusRejectionOf(accountFlagsOf(state, leg?.transfer.debitAccountId));
    if (status !== null) return rejection(status);
  }
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

/** The flags of an account of this shard (0 when it is not here). */
function accountFlagsOf(state: LedgerState, accountId: string | undefined): number {
  const account = accountId === undefined ? undefined : state.accounts.get(accountId);
  return account === undefined ? 0 : account.flags;
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

/** ReleaseReservation: gives back what the reservation held. */
export function decideRelease(
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
  const event: ReservationReleased = {
    type: 'ReservationReleased',
    timestamp: context.timestamp,
    sagaId: command.sagaId,
    legs,
    reason: command.reason,
  };
  const hold = reservation === undefined ? undefined : holdLegOf(reservation);
  return accepted([
    command.reason === 'voided' ? withFollowed(event, command.follows, hold) : event,
  ]);
}

/** A credit shard's closing step of a cross-shard hold, carrying the post or void its debit shard
 * decided (recorded here too, so that the post or void reads as on one shard). */
function withFollowed<Event extends ReservationCommitted | ReservationReleased>(
  event: Event,
  follows: HoldResolution | undefined,
  hold: ReservationLeg | undefined,
): Event {
  // A release that finds nothing reserved here is a tombstone: it records no post or void.
  if (follows === undefined || event.legs.length === 0) return event;
  assert(hold !== undefined && event.legs.length === 1, 'a followed resolution closes a hold');
  return { ...event, resolution: follows };
}
