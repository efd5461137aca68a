// The transfers rows (and their metadata rows) of transfers applied on one shard: a transfer, a
// post or void of a hold, and the post or void of a cross-shard hold as its deciding shard
// recorded it.

import { type Metadata, type TransferRecord } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import {
  metadataText,
  type EventPosition,
  type ProjectorStatements,
} from './projector-statements.js';

/** A same-shard transfer row: the write side's record fields, with the state as stored. */
export type LocalTransfer = Omit<
  TransferRecord,
  'timestamp' | 'postedAmount' | 'sagaId' | 'state'
> & {
  readonly state: string;
};

/** Writes the row of a transfer applied on one shard. If its id already has a row: a released
 * saga's row gives way; of two such transfers on different shards (shards that did not check ids
 * against each other may hold both) the one with the lower (shard, sequence) is kept, whatever
 * order the shards were projected in. */
export function putLocalTransfer(
  statements: ProjectorStatements,
  at: EventPosition,
  row: LocalTransfer,
): void {
  const values = [
    row.id,
    row.kind,
    row.debitAccountId,
    row.creditAccountId,
    row.amount.toString(),
    row.currency,
    row.pending ? 1 : 0,
    row.timeoutMs,
    metadataText(row.metadata),
    row.pendingId,
    row.state,
    null,
    at.timestamp,
    at.shard,
    at.sequence,
    null,
    0,
  ] as const;
  if (statements.insertTransfer.run(...values).changes === 0) {
    const existing = statements.transferOrigin.get(row.id) as {
      saga_id: string | null;
      shard: bigint;
      sequence: bigint;
    };
    const older =
      existing.saga_id === null &&
      (Number(existing.shard) < at.shard ||
        (Number(existing.shard) === at.shard && Number(existing.sequence) < at.sequence));
    if (older) return;
    deleteTransfer(statements, row.id);
    assert(statements.insertTransfer.run(...values).changes === 1, 'transfer row replaced');
  }
  putMetadata(statements, row.id, row.metadata);
}

/** Marks the row of a same-shard hold as resolved: 'posted' (with the amount posted), 'voided' or
 * 'expired'. */
export function resolveHold(
  statements: ProjectorStatements,
  shard: number,
  pendingId: string,
  state: 'posted' | 'voided' | 'expired',
  postedAmount: bigint | null,
): void {
  statements.resolveHold.run(
    state,
    postedAmount === null ? null : postedAmount.toString(),
    pendingId,
    shard,
    'transfer',
  );
}

/** Removes a transfer's row and its metadata rows. */
export function deleteTransfer(statements: ProjectorStatements, id: string): void {
  statements.deleteTransfer.run(id);
  statements.deleteMetadata.run(id);
}

/** One metadata row per key of the transfer's metadata. */
export function putMetadata(
  statements: ProjectorStatements,
  id: string,
  metadata: Metadata | null,
): void {
  if (metadata === null) return;
  for (const key of Object.keys(metadata))
    statements.insertMetadata.run(key, metadata[key] as string, id);
}
