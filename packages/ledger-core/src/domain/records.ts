// What each event changes in the id index (transfer records) and the saga index. Pure; shared by
// the LMDB index and the in-memory one so that both stay equal by construction.

import { assertNever } from '../assert.js';
import type { ReservationState } from './state.js';
import type { LedgerEvent, ReservationLeg, SagaOutcome, TransferRecord, TransferSpec } from './types.js';

export interface IndexWrites {
  readonly transfers: readonly TransferRecord[];
  /** Records whose state changes: the resolved hold, or the saga sides. */
  readonly updates: readonly { readonly id: string; readonly change: Partial<TransferRecord> }[];
  readonly saga: { readonly sagaId: string; readonly outcome: SagaOutcome } | null;
}

const NONE: IndexWrites = Object.freeze({ transfers: [], updates: [], saga: null });

export function transferRecordOf(spec: TransferSpec, timestamp: bigint, state: TransferRecord['state'], sagaId: string | null): TransferRecord {
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

export function indexWritesOf(event: LedgerEvent): IndexWrites {
  switch (event.type) {
    case 'AccountCreated':
      return NONE;
    case 'TransferCreated':
      return {
        transfers: [transferRecordOf(event.transfer, event.timestamp, event.transfer.pending ? 'pending' : 'posted', null)],
        updates: [],
        saga: null,
      };
    case 'PendingTransferPosted':
    case 'PendingTransferVoided': {
      const kind = event.type === 'PendingTransferPosted' ? 'post' : 'void';
      const record: TransferRecord = {
        id: event.id,
        kind,
        debitAccountId: event.debitAccountId,
        creditAccountId: event.creditAccountId,
        amount: event.amount,
        currency: event.currency,
        pending: false,
        timeoutMs: 0,
        metadata: event.metadata,
        timestamp: event.timestamp,
        pendingId: event.pendingId,
        state: 'posted',
        postedAmount: null,
        sagaId: null,
      };
      const change: Partial<TransferRecord> =
        kind === 'post' ? { state: 'posted', postedAmount: event.amount } : { state: 'voided' };
      return { transfers: [record], updates: [{ id: event.pendingId, change }], saga: null };
    }
    case 'PendingTransferExpired':
      return { transfers: [], updates: [{ id: event.pendingId, change: { state: 'expired' } }], saga: null };
    case 'FundsReserved': {
      // ShardEngine does not write these: while the reservation is open its records are the
      // reservation itself (reservedTransfers), equal to these by construction.
      // A transfer with both sides on this shard appears as two legs; record it once.
      const seen = new Set<string>();
      const transfers: TransferRecord[] = [];
      for (const leg of event.legs) {
        if (seen.has(leg.transfer.id)) continue;
        seen.add(leg.transfer.id);
        transfers.push(transferRecordOf(leg.transfer, event.timestamp, 'reserved', event.sagaId));
      }
      // No saga index entry: an open saga's outcome is its reservation in the state, which every
      // reader consults first (decide, sagaOutcome); the index holds final outcomes only, written
      // by the step that closes the saga. ('reserved' entries written before stay, shadowed.)
      return { transfers, updates: [], saga: null };
    }
    case 'ReservationCommitted':
    case 'ReservationReleased': {
      const state = event.type === 'ReservationCommitted' ? 'posted' : 'released';
      const ids = [...new Set(event.legs.map((leg) => leg.transfer.id))];
      return {
        transfers: [],
        updates: ids.map((id) => ({ id, change: { state } })),
        saga: { sagaId: event.sagaId, outcome: event.type === 'ReservationCommitted' ? 'committed' : 'released' },
      };
    }
    default:
      return assertNever(event, 'event');
  }
}

/**
 * The records of a reservation's sides once the saga closes ('posted' on commit, 'released' on
 * release): what indexWritesOf's updates make of the records FundsReserved wrote, built from the
 * open reservation instead of read back from the index. FundsReserved wrote
 * transferRecordOf(leg.transfer, reservation.timestamp, 'reserved', sagaId) for each transfer id,
 * and while the reservation is open nothing else may write those ids (every command that takes an
 * id refuses one whose record is 'reserved'), so the update of that record is this record.
 * One record per transfer id, in leg order, like indexWritesOf's updates.
 */
export function closedRecordsOf(reservation: ReservationState, state: 'posted' | 'released'): TransferRecord[] {
  const legs = reservation.legs;
  const records: TransferRecord[] = [];
  for (let index = 0; index < legs.length; index += 1) {
    const spec = (legs[index] as ReservationLeg).transfer;
    // A transfer with both sides on this shard appears as two legs; its record once.
    let seen = false;
    for (let other = 0; other < index && !seen; other += 1) seen = (legs[other] as ReservationLeg).transfer.id === spec.id;
    if (!seen) records.push(transferRecordOf(spec, reservation.timestamp, state, reservation.sagaId));
  }
  return records;
}
