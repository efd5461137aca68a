// What each event changes in the id index (transfer records) and the saga index. Pure; shared by
// the LMDB index and the in-memory one so that both stay equal by construction.

import { assertNever } from '../assert.js';
import type { LedgerEvent, SagaOutcome, TransferRecord, TransferSpec } from './types.js';

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
      // A transfer with both sides on this shard appears as two legs; record it once.
      const seen = new Set<string>();
      const transfers: TransferRecord[] = [];
      for (const leg of event.legs) {
        if (seen.has(leg.transfer.id)) continue;
        seen.add(leg.transfer.id);
        transfers.push(transferRecordOf(leg.transfer, event.timestamp, 'reserved', event.sagaId));
      }
      return { transfers, updates: [], saga: { sagaId: event.sagaId, outcome: 'reserved' } };
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
