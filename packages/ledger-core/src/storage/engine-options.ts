// A shard engine's options: their checks and defaults (ShardEngineOptions in engine-types.ts).

import { LedgerError } from '../errors.js';
import type { ShardEngineOptions } from './engine-types.js';

/** The LMDB map size when the options name none: address space, not disk, until written. */
export const mapSizeDefault = 64 * 1024 ** 3;

/** Throws INVALID_ARGUMENT for a durability other than 'strict' or 'relaxed'. */
export function checkDurability(durability: ShardEngineOptions['durability']): void {
  if (durability !== undefined && durability !== 'strict' && durability !== 'relaxed')
    throw new LedgerError('INVALID_ARGUMENT', { durability: String(durability) });
}

/** Wall clock in nanoseconds since the epoch, monotonic within the process. */
export function wallClock(): () => bigint {
  const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => process.hrtime.bigint() + offset;
}
