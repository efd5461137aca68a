// What ReadModel.waitFor waits for: positions in the shards' logs that the projection must reach.

import { LedgerError } from '@shardledger/ledger-core';
import type { Ledger } from '../ledger.js';
import type { Watermark } from './projector.js';

/** A position in one shard's log: what `waitFor` waits for. */
export interface LogPosition {
  readonly shard: number;
  readonly sequence: number;
}

export type WaitTarget =
  'latest' | LogPosition | readonly LogPosition[] | { readonly watermark: readonly LogPosition[] };

/** The positions a target names ('latest': every shard's last sequence as of this call);
 * INVALID_ARGUMENT for a shard the ledger does not have or a sequence that is not an integer. */
export async function positionsOf(ledger: Ledger, target: WaitTarget): Promise<LogPosition[]> {
  if (target === 'latest') {
    const info = await ledger.info();
    return info.shardInfo.map((shard, index) => ({ shard: index, sequence: shard.lastSequence }));
  }
  const list = Array.isArray(target)
    ? (target as readonly LogPosition[])
    : 'watermark' in target
      ? target.watermark
      : [target as LogPosition];
  for (const position of list) {
    if (
      !Number.isSafeInteger(position.shard) ||
      position.shard < 0 ||
      position.shard >= ledger.shards ||
      !Number.isSafeInteger(position.sequence)
    ) {
      throw new LedgerError('INVALID_ARGUMENT', { target: 'shard and sequence' });
    }
  }
  return list.map((position) => ({ shard: position.shard, sequence: position.sequence }));
}

/** Whether the watermarks (one per shard, by shard) have reached every position. */
export function reached(marks: readonly Watermark[], positions: readonly LogPosition[]): boolean {
  return positions.every(
    (position) => (marks[position.shard]?.sequence ?? -1) >= position.sequence,
  );
}
