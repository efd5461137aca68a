// The pieces every decider builds its Decision from (decide.ts and the deciders it dispatches
// to): the accepted and rejected results, the id lookups that decide whether a command exists
// already, and the scratch counters that let later members of a group see earlier ones.

import type { RejectionCode } from '../errors.js';
import { copyCounters, type Counters } from './balance.js';
import type { AccountState } from './state.js';
import type {
  Decision,
  DecideContext,
  LedgerEvent,
  Rejection,
  TransferRecord,
  TransferSpec,
} from './types.js';
import { metadataEqual } from './validate.js';

export const NO_EVENTS: readonly LedgerEvent[] = Object.freeze([]);

export const EXISTS: Decision = Object.freeze({ ok: true, events: NO_EVENTS, exists: true });

export function rejection(code: RejectionCode, detail?: string): Rejection {
  return detail === undefined ? { ok: false, code } : { ok: false, code, detail };
}

export function accepted(events: readonly LedgerEvent[]): Decision {
  return { ok: true, events, exists: false };
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
export function liveRecord(context: DecideContext, id: string): TransferRecord | undefined {
  const record = context.transfers.get(id);
  return record === undefined || record.state === 'released' ? undefined : record;
}

/** Scratch copies of the counters a group or reservation touches, so that later members see the
 * effect of earlier ones without mutating state. */
export class CounterOverlay {
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

export function groupFailure(codes: (RejectionCode | null)[]): Rejection {
  const first = codes.find((code) => code !== null) as RejectionCode;
  return { ok: false, code: first, codes: codes.map((code) => code ?? 'LINKED_TRANSFER_FAILED') };
}
