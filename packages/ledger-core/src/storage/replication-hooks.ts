// The seam between a shard engine and a replicated log, for the `replicated` durability mode: the
// engine hands each group commit's encoded log record to a RecordReplica, synchronously and in log
// order, right after it issued the local write, and a call resolves only once the local commit
// and the replica's acknowledgement are both in. The replica itself (NATS JetStream) lives in
// shard-router; the engine knows only this shape, so `strict` and `relaxed` pay one check of an
// absent field per commit and nothing else.

import { LedgerError } from '../errors.js';

/** Where a `replicated` shard's records go. */
export interface RecordReplica {
  /** Takes the record of events `first`..`last`; called once per record, in log order. Resolves
   * once the replicated log holds it (however long that takes); rejects only when this writer
   * was fenced out of the replicated log, which stops the shard for good. */
  replicate(first: number, last: number, encoded: Uint8Array): Promise<void>;
}

/** The durability modes a shard engine takes (engine-types.ts Durability). */
export const durabilityModes: ReadonlySet<unknown> = new Set(['strict', 'relaxed', 'replicated']);

/** Throws INVALID_ARGUMENT for an unknown mode, for `replicated` without a replica and for a
 * replica given to another mode. */
export function checkDurability(durability: unknown, replica: RecordReplica | undefined): void {
  const mode = durability ?? 'strict';
  if (!durabilityModes.has(mode))
    throw new LedgerError('INVALID_ARGUMENT', { durability: String(mode) });
  if ((mode === 'replicated') !== (replica !== undefined))
    throw new LedgerError('INVALID_ARGUMENT', {
      durability: String(mode),
      problem: 'a replica is given exactly when durability is replicated',
    });
}
