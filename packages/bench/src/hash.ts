// FNV-1a (32-bit) over the UTF-16 code units of an id: the stand-in partition function used to
// spread accounts over shards when no ledger is plugged in (peers-only runs).

const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;

export function fnv1a32(text: string): number {
  let hash = fnvOffsetBasis;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, fnvPrime);
  }
  return hash >>> 0;
}

/** shardOf for peers-only runs: hash modulo shard count. */
export function hashShardOf(shardCount: number): (accountId: string) => number {
  if (!Number.isInteger(shardCount) || shardCount < 1)
    throw new Error(`bad shard count ${shardCount}`);
  return (accountId: string) => fnv1a32(accountId) % shardCount;
}
