// Decisions on holds (pending transfers) within one shard: posting or voiding one, and expiring
// those whose timeout has passed. The cross-shard hold's post or void (reservation-decider.ts)
// makes the same checks, in the same order (checkResolution).

import type { RejectionCode } from '../errors.js';
import { assert } from '../assert.js';
import { statusRejectionOf } from './account-decider.js';
import { accepted, EXISTS, liveRecord, NO_EVENTS, rejection } from './decision.js';
import type { LedgerState } from './state.js';
import type { Decision, DecideContext, PendingResolutionSpec, TransferRecord } from './types.js';
import { metadataEqual } from './validate.js';

/** The rejection of a post or void that finds no open hold under its pending id, by what the id
 * index says of that id. */
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

/** An open hold as its post or void checks it: the amount it holds, and when it expires (0n:
 * never). */
export interface HoldTerms {
  readonly amount: bigint;
  readonly expiresAt: bigint;
}

/** The checks of a post or void, in this order, alike for a hold on one shard and a cross-shard
 * one: its own id taken (takenResolution), no open hold under its pending id (`hold` undefined),
 * the hold expired, more than the hold. Returns the amount it moves (a void: the whole hold; a
 * post: its own amount, else the whole hold), or the decision that ends it there. */
export function checkResolution(
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  context: DecideContext,
  hold: HoldTerms | undefined,
): bigint | Decision {
  const taken = takenResolution(spec, action, context);
  if (taken !== null) return taken;
  if (hold === undefined) return rejection(resolutionCodeOf(context.transfers.get(spec.pendingId)));
  if (hold.expiresAt !== 0n && hold.expiresAt <= context.timestamp)
    return rejection('PENDING_EXPIRED');
  const amount = action === 'void' ? hold.amount : (spec.amount ?? hold.amount);
  return amount > hold.amount ? rejection('AMOUNT_EXCEEDS_PENDING') : amount;
}

/** PostPendingTransfer or VoidPendingTransfer of a hold on this shard. */
export function decideResolution(
  spec: PendingResolutionSpec,
  action: 'post' | 'void',
  state: LedgerState,
  context: DecideContext,
): Decision {
  const hold = state.pending.get(spec.pendingId);
  const amount = checkResolution(spec, action, context, hold);
  if (typeof amount !== 'bigint') return amount;
  assert(hold !== undefined, 'a resolution that passed its checks has its hold');
  if (action === 'post') {
    // A hold on an account frozen or closed since is not posted; it may still be voided (or
    // expire), so that the money it holds is never stranded.
    const status = statusRejectionOf(
      (state.accounts.get(hold.debitAccountId)?.flags ?? 0) |
        (state.accounts.get(hold.creditAccountId)?.flags ?? 0),
    );
    if (status !== null) return rejection(status);
  }
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

/** ExpirePendingTransfers: one PendingTransferExpired per open hold whose timeout has passed. */
export function decideExpiry(state: LedgerState, context: DecideContext): Decision {
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
