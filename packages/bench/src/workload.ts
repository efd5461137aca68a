// Deterministic workload generator: the same seed gives the same accounts, pairs, amounts and ids,
// so Shardledger and every peer run exactly the same transfers. Everything is generated before
// any timing starts; batches hold account indexes (typed arrays) plus the transfer ids.

import { createPrng } from './prng.js';
import type { AccountInput, TransferInput } from './target.js';
import { createZipfSampler } from './zipf.js';

/** TigerBeetle's batch size, the default of the `standard` scenario. */
export const batchSizeDefault = 8190;
export const amountMinMinorUnits = 1;
export const amountMaxMinorUnits = 1000;
const retryCountMax = 10_000;

export interface WorkloadOptions {
  readonly seed: number;
  readonly accountCount: number;
  readonly transferCount: number;
  readonly batchSize?: number;
  /** Fraction in [0, 1] of transfers whose credit account lives on another shard. */
  readonly crossShardRatio?: number;
  /** Needed when crossShardRatio is set; defaults to "everything on shard 0". */
  readonly shardOf?: (accountId: string) => number;
  /** Zipf exponent for debit accounts (`hot` scenario); uniform when absent. */
  readonly hotExponent?: number;
  /** Goes into transfer ids: `t-<runId>-<counter>`. */
  readonly runId?: string;
  readonly currency?: string;
}

export interface WorkloadBatch {
  readonly ids: readonly string[];
  /** Account indexes into `Workload.accountIds`. */
  readonly debit: Uint32Array;
  readonly credit: Uint32Array;
  /** Minor units, 1..1000 (fits a JS number exactly; bigint for the ledger via `transfersOf`). */
  readonly amount: Uint32Array;
}

export interface Workload {
  readonly seed: number;
  readonly currency: string;
  readonly accountIds: readonly string[];
  readonly batchSize: number;
  readonly batches: readonly WorkloadBatch[];
  readonly transferCount: number;
  /** Transfers whose two accounts are on different shards (per `shardOf`). */
  readonly crossShardCount: number;
}

export function accountIdOf(index: number): string {
  return `acct-${String(index + 1).padStart(6, '0')}`;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const batchSize = options.batchSize ?? batchSizeDefault;
  const crossShardRatio = options.crossShardRatio ?? 0;
  const currency = options.currency ?? 'USD';
  const runId = options.runId ?? String(options.seed);
  checkOptions(options, batchSize, crossShardRatio);
  const prng = createPrng(options.seed);
  const accountIds = Array.from({ length: options.accountCount }, (_, index) => accountIdOf(index));
  const shardOf = options.shardOf ?? (() => 0);
  const shardOfIndex = Uint32Array.from(accountIds, (id) => shardOf(id));
  const byShard = groupByShard(shardOfIndex);
  if (crossShardRatio > 0 && byShard.size < 2) throw new Error('crossShardRatio > 0 needs accounts on at least two shards');
  const hot = options.hotExponent === undefined ? null : createZipfSampler({ count: accountIds.length, exponent: options.hotExponent });
  // Hot ranks map to a seeded permutation, so the hottest accounts are spread over shards.
  const hotPermutation = hot === null ? null : shuffledIndexes(accountIds.length, prng);
  const batches: WorkloadBatch[] = [];
  let crossShardCount = 0;
  for (let start = 0; start < options.transferCount; start += batchSize) {
    const size = Math.min(batchSize, options.transferCount - start);
    const ids = new Array<string>(size);
    const debit = new Uint32Array(size);
    const credit = new Uint32Array(size);
    const amount = new Uint32Array(size);
    for (let item = 0; item < size; item++) {
      const debitIndex = hot === null || hotPermutation === null ? prng.nextBelow(accountIds.length) : (hotPermutation[hot.sample(prng)] as number);
      const cross = crossShardRatio > 0 && prng.nextFloat() < crossShardRatio;
      const creditIndex = pickCredit({ debitIndex, cross, prng, shardOfIndex, byShard, accountCount: accountIds.length });
      if (shardOfIndex[debitIndex] !== shardOfIndex[creditIndex]) crossShardCount++;
      ids[item] = `t-${runId}-${String(start + item + 1).padStart(10, '0')}`;
      debit[item] = debitIndex;
      credit[item] = creditIndex;
      amount[item] = amountMinMinorUnits + prng.nextBelow(amountMaxMinorUnits - amountMinMinorUnits + 1);
    }
    batches.push({ ids, debit, credit, amount });
  }
  return { seed: options.seed, currency, accountIds, batchSize, batches, transferCount: options.transferCount, crossShardCount };
}

function checkOptions(options: WorkloadOptions, batchSize: number, crossShardRatio: number): void {
  if (!Number.isInteger(options.accountCount) || options.accountCount < 2) throw new Error('accountCount must be an integer >= 2');
  if (!Number.isInteger(options.transferCount) || options.transferCount < 1) throw new Error('transferCount must be an integer >= 1');
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error('batchSize must be an integer >= 1');
  if (!(crossShardRatio >= 0 && crossShardRatio <= 1)) throw new Error('crossShardRatio must be in [0, 1]');
  if (crossShardRatio > 0 && options.shardOf === undefined) throw new Error('crossShardRatio needs shardOf');
}

function groupByShard(shardOfIndex: Uint32Array): Map<number, Uint32Array> {
  const lists = new Map<number, number[]>();
  shardOfIndex.forEach((shard, index) => {
    const list = lists.get(shard);
    if (list === undefined) lists.set(shard, [index]);
    else list.push(index);
  });
  return new Map([...lists].map(([shard, list]) => [shard, Uint32Array.from(list)]));
}

function shuffledIndexes(count: number, prng: ReturnType<typeof createPrng>): Uint32Array {
  const indexes = Uint32Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = prng.nextBelow(index + 1);
    const value = indexes[index] as number;
    indexes[index] = indexes[other] as number;
    indexes[other] = value;
  }
  return indexes;
}

interface PickCredit {
  readonly debitIndex: number;
  readonly cross: boolean;
  readonly prng: ReturnType<typeof createPrng>;
  readonly shardOfIndex: Uint32Array;
  readonly byShard: Map<number, Uint32Array>;
  readonly accountCount: number;
}

/** A credit account != debit, on the debit's shard (cross false) or on another one (cross true). */
function pickCredit(pick: PickCredit): number {
  const debitShard = pick.shardOfIndex[pick.debitIndex] as number;
  const sameShard = pick.byShard.get(debitShard) as Uint32Array;
  for (let attempt = 0; attempt < retryCountMax; attempt++) {
    const candidate = pick.cross ? pick.prng.nextBelow(pick.accountCount) : (sameShard[pick.prng.nextBelow(sameShard.length)] as number);
    if (candidate === pick.debitIndex) continue;
    if (pick.cross && pick.shardOfIndex[candidate] === debitShard) continue;
    return candidate;
  }
  throw new Error(`no credit account found for ${pick.debitIndex} (shard ${debitShard} too small?)`);
}

/** The accounts as the ledger takes them. */
export function accountsOf(workload: Workload): AccountInput[] {
  return workload.accountIds.map((id) => ({ id, currency: workload.currency }));
}

/** One batch as the ledger takes it (call before timing: it allocates). */
export function transfersOf(workload: Workload, batch: WorkloadBatch): TransferInput[] {
  const transfers = new Array<TransferInput>(batch.ids.length);
  for (let item = 0; item < batch.ids.length; item++) {
    transfers[item] = {
      id: batch.ids[item] as string,
      debitAccountId: workload.accountIds[batch.debit[item] as number] as string,
      creditAccountId: workload.accountIds[batch.credit[item] as number] as string,
      amount: BigInt(batch.amount[item] as number),
      currency: workload.currency,
    };
  }
  return transfers;
}

/** Sum of all amounts, for conservation checks. */
export function totalAmountOf(batches: readonly WorkloadBatch[]): bigint {
  let total = 0;
  for (const batch of batches) for (let item = 0; item < batch.amount.length; item++) total += batch.amount[item] as number;
  return BigInt(total);
}
