// A shard engine's defaults (ShardEngineOptions in engine-types.ts; durability is checked by
// replication-hooks.ts, with the replica that `replicated` takes).

/** The LMDB map size when the options name none: address space, not disk, until written. */
export const mapSizeDefault = 64 * 1024 ** 3;

/** Wall clock in nanoseconds since the epoch, monotonic within the process. */
export function wallClock(): () => bigint {
  const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
  return () => process.hrtime.bigint() + offset;
}
