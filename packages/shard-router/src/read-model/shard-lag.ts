// How far the projection is behind each shard's log: in events, and in the age of the oldest
// event not projected yet.

import type { Ledger } from '../ledger.js';
import type { LedgerInfo } from '../ledger-types.js';
import type { Watermark } from './projector.js';

export interface ShardLag {
  readonly shard: number;
  readonly projectedSequence: number;
  readonly ledgerSequence: number;
  readonly lagEvents: number;
  /** Age of the oldest event not yet projected (0 when caught up). */
  readonly lagMs: number;
}

const NANOS_PER_MS = 1_000_000n;

/** Per shard: events written (as of `info`) but not projected yet (past `marks`), and the age of
 * the oldest of them. */
export function lagOf(
  ledger: Ledger,
  info: LedgerInfo,
  marks: readonly Watermark[],
): Promise<ShardLag[]> {
  const nowNs = BigInt(Date.now()) * NANOS_PER_MS;
  return Promise.all(
    info.shardInfo.map(async (shardInfo, shard) => {
      const projected = marks[shard]?.sequence ?? 0;
      const lagEvents = Math.max(0, shardInfo.lastSequence - projected);
      let lagMs = 0;
      if (lagEvents > 0) {
        // The oldest event not projected, read from the log (the worker decodes what it applies;
        // this thread does not know event timestamps before they are committed).
        const oldest = (await ledger.readEvents(shard, projected, 1))[0]?.event.timestamp;
        if (oldest !== undefined && nowNs > oldest) lagMs = Number((nowNs - oldest) / NANOS_PER_MS);
      }
      return {
        shard,
        projectedSequence: projected,
        ledgerSequence: shardInfo.lastSequence,
        lagEvents,
        lagMs,
      };
    }),
  );
}
