// Many small createTransfers calls at once, the shape an HTTP payment service sends (one transfer
// per request), are joined into one batch per turn of the event loop and written as one call:
// routing, the id checks and the shard messages then cost per batch instead of per call. Each
// caller gets its own results, in its own order. Calls reach the writer in the order they were
// made: a large call first sends the small ones queued before it.
//
// A batch fails or succeeds as one write: when a shard fails while it is written (the call
// rejects, SHARD_UNAVAILABLE or TIMEOUT), every call of the batch rejects, also one whose
// transfers went to a shard that applied them. As for any rejected call, its outcome is then
// unknown and a retry with the same ids returns it ('exists' for what was applied).

import type { TransferInput } from '@shardledger/ledger-core';
import { joinedMessageMax } from '../shard/send-queue.js';
import type { TransferResult } from '../ledger-types.js';

/** Calls of at most this many transfers wait for the turn's batch; larger ones go alone. */
const coalescedCallMax = 64;

interface QueuedCall {
  readonly transfers: readonly TransferInput[];
  readonly resolve: (results: TransferResult[]) => void;
  readonly reject: (error: unknown) => void;
}

export class CallCoalescer {
  readonly #write: (transfers: readonly TransferInput[]) => Promise<TransferResult[]>;
  #queued: QueuedCall[] = [];
  #queuedTransfers = 0;
  #scheduled = false;

  constructor(write: (transfers: readonly TransferInput[]) => Promise<TransferResult[]>) {
    this.#write = write;
  }

  /** Writes `transfers` (checked by the caller: an array within the batch size limit). */
  write(transfers: readonly TransferInput[]): Promise<TransferResult[]> {
    if (transfers.length > coalescedCallMax) {
      this.flush();
      return this.#write(transfers);
    }
    // A turn's calls go as writes of up to one joined message each (SendQueue), so that the
    // shard can commit the first while it applies the next.
    if (this.#queuedTransfers + transfers.length > joinedMessageMax) this.flush();
    const result = new Promise<TransferResult[]>((resolve, reject) => {
      this.#queued.push({ transfers, resolve, reject });
    });
    this.#queuedTransfers += transfers.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
    return result;
  }

  /** Sends the queued calls now, as one write. */
  flush(): void {
    this.#scheduled = false;
    const calls = this.#queued;
    if (calls.length === 0) return;
    this.#queued = [];
    this.#queuedTransfers = 0;
    if (calls.length === 1) {
      const call = calls[0] as QueuedCall;
      this.#write(call.transfers).then(call.resolve, call.reject);
      return;
    }
    const joined: TransferInput[] = [];
    for (const call of calls) for (const transfer of call.transfers) joined.push(transfer);
    this.#write(joined).then(
      (results) => {
        let at = 0;
        for (const call of calls) {
          call.resolve(results.slice(at, at + call.transfers.length));
          at += call.transfers.length;
        }
      },
      (error: unknown) => {
        for (const call of calls) call.reject(error);
      },
    );
  }
}
