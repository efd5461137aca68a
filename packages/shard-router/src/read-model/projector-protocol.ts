// Messages between the ReadModel (caller's thread) and its projector worker (projector-worker.ts).
// Events travel as the shard's raw log records (the bytes its LMDB log holds) and are decoded in
// the worker: decoding and cloning event objects would cost the caller's thread several
// microseconds per event, at normal priority. Replies come back in the order of the requests:
// the worker handles one message at a time.

import type { WireError } from '@shardledger/ledger-core/internals';
import type { Watermark } from './projector.js';

export interface ProjectorWorkerData {
  /** The read-model file; the caller's thread has created its schema already. */
  readonly path: string;
  /** Niceness of the worker thread (0 to 19, Linux): 19 lets it use only CPU time that the write
   * path leaves idle. */
  readonly niceness: number;
}

/** Events afterSequence+1 .. lastSequence of `shard`, found in `records` (encoded event records
 * as the shard's readNewRecords returns them; they may hold events outside the range). */
export interface RecordBatch {
  readonly shard: number;
  readonly afterSequence: number;
  readonly lastSequence: number;
  readonly records: readonly Uint8Array[];
}

export type ProjectorRequest =
  ({ readonly kind: 'apply' } & RecordBatch) | { readonly kind: 'close' };

export type ProjectorReply =
  | { readonly kind: 'ready'; readonly niceness: number | null }
  | { readonly kind: 'applied'; readonly watermark: Watermark }
  | { readonly kind: 'failed'; readonly error: WireError }
  | { readonly kind: 'closed' };
