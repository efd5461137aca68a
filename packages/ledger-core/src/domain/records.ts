// What each event changes in the id index (transfer records) and the saga index. Pure; shared by
// the LMDB index and the in-memory one so that both stay equal by construction.

import { assertNever } from '../assert.js';
import type { ReservationState } from './state.js';
import type {
  FundsReserved,
  LedgerEvent,
  ReservationCommitted,
  ReservationLeg,
  ReservationReleased,
  SagaOutcome,
  TransferRecord,
  TransferSpec,
} from './types.js';

export interface IndexWrites {
  readonly transfers: readonly TransferRecord[];
  /** Records whose state changes: the resolved hold, or the saga sides. */
  readonly updates: readonly { readonly id: string; readonly change: Partial<TransferRecord> }[];
  readonly saga: { readonly sagaId: string; readonly outcome: SagaOutcome } | null;
}

const NONE: IndexWrites = Object.freeze({ transfers: [], updates: [], saga: null });

export function transferRecordOf(
  spec: TransferSpec,
  timestamp: bigint,
  state: TransferRecord['state'],
  sagaId: string | null,
): TransferRecord {
  return {
    id: spec.id,
    kind: 'transfer',
    debitAccountId: spec.debitAccountId,
    creditAccountId: spec.creditAccountId,
    amount: spec.amount,
    currency: spec.currency,
    pending: spec.pending,
    timeoutMs: spec.timeoutMs,
    metadata: spec.metadata,
    timestamp,
    pendingId: null,
    state,
    postedAmount: null,
    sagaId,
  };
}

/** The record state of an open reservation's transfer: a cross-shard hold (a pending transfer
 * whose accounts live on two shards) is 'pending' on both, as a one-shard hold is; any other saga
 * side is 'reserved' (in flight) until the saga closes. */
export function reservedStateOf(spec: TransferSpec): TransferRecord['state'] {
  return spec.pending ? 'pending' : 'reserved';
}

/** What a closing saga event makes of its transfers' records: posted (with the amount posted, for
 * a hold; dated by the commit, for any other transfer) on commit; a hold voided or expired by its
 * release; anything else released. */
export function closedChangeOf(
  event: ReservationCommitted | ReservationReleased,
  spec: TransferSpec,
): Partial<TransferRecord> {
  const resolvedBy = event.resolution === undefined ? {} : { resolvedBy: event.resolution.id };
  if (event.type === 'ReservationCommitted')
    return spec.pending
      ? { state: 'posted', postedAmount: event.amount ?? spec.amount, ...resolvedBy }
      : { state: 'posted', timestamp: event.timestamp };
  if (spec.pending && (event.reason === 'voided' || event.reason === 'expired'))
    return { state: event.reason, ...resolvedBy };
  return { state: 'released' };
}

/** The record of a post or void (of a hold on one shard, or of a cross-shard one). */
function resolutionRecordOf(
  kind: 'post' | 'void',
  id: string,
  metadata: TransferRecord['metadata'],
  timestamp: bigint,
  hold: {
    readonly debitAccountId: string;
    readonly creditAccountId: string;
    readonly currency: string;
  },
  amount: bigint,
  pendingId: string,
): TransferRecord {
  return {
    id,
    kind,
    debitAccountId: hold.debitAccountId,
    creditAccountId: hold.creditAccountId,
    amount,
    currency: hold.currency,
    pending: false,
    timeoutMs: 0,
    metadata,
    timestamp,
    pendingId,
    state: 'posted',
    postedAmount: null,
    sagaId: null,
  };
}

/** The post or void record a closing event carries (the debit shard's, which decided it). */
export function holdResolutionRecordOf(
  event: ReservationCommitted | ReservationReleased,
): TransferRecord | null {
  const resolution = event.resolution;
  const leg = event.legs[0];
  if (resolution === undefined || leg === undefined) return null;
  const spec = leg.transfer;
  const post = event.type === 'ReservationCommitted';
  const amount = post ? (event.amount ?? spec.amount) : spec.amount;
  return resolutionRecordOf(
    post ? 'post' : 'void',
    resolution.id,
    resolution.metadata,
    event.timestamp,
    spec,
    amount,
    spec.id,
  );
}

export function indexWritesOf(event: LedgerEvent): IndexWrites {
  switch (event.type) {
    case 'AccountCreated':
    case 'AccountFrozen':
    case 'AccountUnfrozen':
    case 'AccountClosed':
      return NONE;
    case 'TransferCreated':
      return {
        transfers: [
          transferRecordOf(
            event.transfer,
            event.timestamp,
            event.transfer.pending ? 'pending' : 'posted',
            null,
          ),
        ],
        updates: [],
        saga: null,
      };
    case 'PendingTransferPosted':
    case 'PendingTransferVoided': {
      const kind = event.type === 'PendingTransferPosted' ? 'post' : 'void';
      const record = resolutionRecordOf(
        kind,
        event.id,
        event.metadata,
        event.timestamp,
        event,
        event.amount,
        event.pendingId,
      );
      const change: Partial<TransferRecord> =
        kind === 'post' ? { state: 'posted', postedAmount: event.amount } : { state: 'voided' };
      return { transfers: [record], updates: [{ id: event.pendingId, change }], saga: null };
    }
    case 'PendingTransferExpired':
      return {
        transfers: [],
        updates: [{ id: event.pendingId, change: { state: 'expired' } }],
        saga: null,
      };
    case 'FundsReserved':
      return reservedWritesOf(event);
    case 'ReservationCommitted':
    case 'ReservationReleased':
      return closedWritesOf(event);
    default:
      return assertNever(event, 'event');
  }
}

/** indexWritesOf a FundsReserved. ShardEngine does not write these: while the reservation is open
 * its records are the reservation itself (reservedTransfers), equal to these by construction. */
function reservedWritesOf(event: FundsReserved): IndexWrites {
  // A transfer with both sides on this shard appears as two legs; record it once.
  const seen = new Set<string>();
  const transfers: TransferRecord[] = [];
  for (const leg of event.legs) {
    if (seen.has(leg.transfer.id)) continue;
    seen.add(leg.transfer.id);
    transfers.push(
      transferRecordOf(leg.transfer, event.timestamp, reservedStateOf(leg.transfer), event.sagaId),
    );
  }
  // No saga index entry: an open saga's outcome is its reservation in the state, which every
  // reader consults first (decide, sagaOutcome); the index holds final outcomes only, written
  // by the step that closes the saga. A 'reserved' entry that an index written by an older version
  // holds for an open saga is never read: the reservation is found first.
  return { transfers, updates: [], saga: null };
}

/** indexWritesOf a ReservationCommitted or ReservationReleased. */
function closedWritesOf(event: ReservationCommitted | ReservationReleased): IndexWrites {
  const seen = new Set<string>();
  const updates: { id: string; change: Partial<TransferRecord> }[] = [];
  for (const leg of event.legs) {
    if (seen.has(leg.transfer.id)) continue;
    seen.add(leg.transfer.id);
    updates.push({ id: leg.transfer.id, change: closedChangeOf(event, leg.transfer) });
  }
  const resolution = holdResolutionRecordOf(event);
  return {
    transfers: resolution === null ? [] : [resolution],
    updates,
    saga: {
      sagaId: event.sagaId,
      outcome: event.type === 'ReservationCommitted' ? 'committed' : 'released',
    },
  };
}

/**
 * The records of a reservation's sides once the saga closes ('posted' on commit, 'released' on
 * release): what indexWritesOf's updates make of the records of the FundsReserved event, built
 * from the open reservation instead of read back from the index. Those records are
 * transferRecordOf(leg.transfer, reservation.timestamp, reservedStateOf(leg.transfer), sagaId) for
 * each transfer id, and while the reservation is open nothing else may write those ids (every
 * command that takes an id refuses one whose record is 'reserved'), so the update of that record
 * is this record. One record per transfer id, in leg order, like indexWritesOf's updates.
 */
export function closedRecordsOf(
  reservation: ReservationState,
  event: ReservationCommitted | ReservationReleased,
): TransferRecord[] {
  const legs = reservation.legs;
  const records: TransferRecord[] = [];
  for (let index = 0; index < legs.length; index += 1) {
    const spec = (legs[index] as ReservationLeg).transfer;
    // A transfer with both sides on this shard appears as two legs; its record once.
    let seen = false;
    for (let other = 0; other < index && !seen; other += 1)
      seen = (legs[other] as ReservationLeg).transfer.id === spec.id;
    if (seen) continue;
    if (!spec.pending) {
      // Any saga but a hold (the common case, without a change object). A committed transfer
      // is dated by its commit, when it posted (closedChangeOf).
      const committed = event.type === 'ReservationCommitted';
      records.push(
        transferRecordOf(
          spec,
          committed ? event.timestamp : reservation.timestamp,
          committed ? 'posted' : 'released',
          reservation.sagaId,
        ),
      );
      continue;
    }
    const change = closedChangeOf(event, spec);
    const record = transferRecordOf(
      spec,
      reservation.timestamp,
      change.state ?? 'released',
      reservation.sagaId,
    );
    // A hold's change (closedChangeOf): its state, the amount posted and its post or void.
    records.push({ ...record, ...change });
  }
  return records;
}
