// How the workload draws accounts (workload.ts): groups by shard, the hot accounts' permutation,
// and the credit account of a transfer, uniform or on a chosen shard.

import type { Prng } from './prng.js';

const retryCountMax = 10_000;

export function groupByShard(shardOfIndex: Uint32Array): Map<number, Uint32Array> {
  const lists = new Map<number, number[]>();
  shardOfIndex.forEach((shard, index) => {
    const list = lists.get(shard);
    if (list === undefined) lists.set(shard, [index]);
    else list.push(index);
  });
  return new Map([...lists].map(([shard, list]) => [shard, Uint32Array.from(list)]));
}

export function shuffledIndexes(count: number, prng: Prng): Uint32Array {
  const indexes = Uint32Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = prng.nextBelow(index + 1);
    const value = indexes[index] as number;
    indexes[index] = indexes[other] as number;
    indexes[other] = value;
  }
  return indexes;
}

export interface PickCredit {
  readonly debitIndex: number;
  readonly cross: boolean;
  readonly prng: Prng;
  readonly shardOfIndex: Uint32Array;
  readonly byShard: Map<number, Uint32Array>;
  readonly accountCount: number;
}

/** A credit account != debit, drawn from all accounts. */
export function pickAnyCredit(debitIndex: number, prng: Prng, accountCount: number): number {
  // Uniform over the other accountCount - 1 accounts: skip the debit's own index.
  const candidate = prng.nextBelow(accountCount - 1);
  return candidate >= debitIndex ? candidate + 1 : candidate;
}

/** A credit account != debit, on the debit's shard (cross false) or on another one (cross true). */
export function pickCredit(pick: PickCredit): number {
  const debitShard = pick.shardOfIndex[pick.debitIndex] as number;
  const sameShard = pick.byShard.get(debitShard) as Uint32Array;
  for (let attempt = 0; attempt < retryCountMax; attempt++) {
    const candidate = pick.cross
      ? pick.prng.nextBelow(pick.accountCount)
      : (sameShard[pick.prng.nextBelow(sameShard.length)] as number);
    if (candidate === pick.debitIndex) continue;
    if (pick.cross && pick.shardOfIndex[candidate] === debitShard) continue;
    return candidate;
  }
  throw new Error(
    `no credit account found for ${pick.debitIndex} (shard ${debitShard} too small?)`,
  );
}
