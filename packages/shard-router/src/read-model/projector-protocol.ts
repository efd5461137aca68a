// Messages between the ReadModel (caller's thread) and its projector worker (projector-worker.ts).
// Events travel by structured clone (bigints included, STYLE rule 8). Replies come back in the
// order of the requests: the worker handles one message at a time.

import type { WireError } from '@shardledger/ledger-core';
import type { SequencedLedgerEvent, Watermark } from './projector.js';

export interface ProjectorWorkerData {
  /** The read-model file; the caller's thread has created its schema already. */
  readonly path: string;
  /** Niceness of the worker thread (0 to 19, Linux): 19 lets it use only CPU time that the write
   * path leaves idle. */
  readonly niceness: number;
}

export type ProjectorRequest =
  | { readonly kind: 'apply'; readonly shard: number; readonly after: Watermark; readonly events: readonly SequencedLedgerEvent[] }
  | { readonly kind: 'close' };

export type ProjectorReply =
  | { readonly kind: 'ready'; readonly niceness: number | null }
  | { readonly kind: 'applied'; readonly watermark: Watermark }
  | { readonly kind: 'failed'; readonly error: WireError }
  | { readonly kind: 'closed' };
