// Deterministic workload generator: the same seed gives the same accounts, pairs, amounts and ids,
// so Shardledger and every peer run exactly the same transfers. Batches are generated lazily,
// on demand: batch N comes from its own PRNG stream seeded by (seed, N), so any runner can ask for
// any batch in any order and gets the same transfers, and nothing is generated beyond what a
// runner actually sends (a fast runner may send millions of transfers; a slow one a few
// thousand). Generating a batch of 8,190 costs about a millisecond here.

import { createPrng } from './prng.js';
import { batchIdsOf, counterDigits, orderedIdOf, type IdKind } from './transfer-ids.js';
import type { AccountInput, TransferInput } from './target.js';
import { createZipfSampler, type ZipfSampler } from './zipf.js';
import { groupByShard, pickAnyCredit, pickCredit, shuffledIndexes } from './account-draws.js';

/** TigerBeetle's batch size, the default of the `standard` scenario. */
export const batchSizeDefault = 8190;
export const amountMinMinorUnits = 1;
export const amountMaxMinorUnits = 1000;
/** A workload never has more transfers than its ids can count. */
export const transferCountMax = 10 ** counterDigits - 1;
/** Default size of an open-ended workload (runners stop at the end of their window). */
export const transferCountDefault = 1_000_000_000;
/** `Workload.batches` materializes everything: only for small workloads (tests). */
const materializedTransferCountMax = 10_000_000;
/** Recently generated batches kept (PostgreSQL asks for one batch 8,190 times in a row). */
const batchCacheSize = 8;

export interface WorkloadOptions {
  readonly seed: number;
  readonly accountCount: number;
  /** Total transfers; default `transferCountDefault` (open-ended: runners stop on time). */
  readonly transferCount?: number;
  readonly batchSize?: number;
  /** How the two accounts of a transfer are drawn: `uniform` (default), both from all accounts,
   * wherever hashing put them, as an application sends them; `co-located`, the credit account
   * from the debit account's shard, except for a `crossShardRatio` share from another shard. */
  readonly pairs?: PairKind;
  /** With `co-located` pairs: the fraction in [0, 1] of transfers whose credit account lives on
   * another shard. */
  readonly crossShardRatio?: number;
  /** Needed when crossShardRatio is set; defaults to "everything on shard 0". */
  readonly shardOf?: (accountId: string) => number;
  /** Zipf exponent for debit accounts (`hot` scenario); uniform when absent. */
  readonly hotExponent?: number;
  /** The kind of transfer ids (default uuidv4, what payment services send). */
  readonly ids?: IdKind;
  /** Goes into ordered transfer ids (`t-<runId>-<counter>`) and UUIDv7 timestamps. */
  readonly runId?: string;
  readonly currency?: string;
}

export interface WorkloadBatch {
  /** Index of this batch in the workload. */
  readonly index: number;
  readonly ids: readonly string[];
  /** Account indexes into `Workload.accountIds`. */
  readonly debit: Uint32Array;
  readonly credit: Uint32Array;
  /** Minor units, 1..1000 (fits a JS number exactly; bigint for the ledger via `transfersOf`). */
  readonly amount: Uint32Array;
  /** Transfers of this batch whose two accounts are on different shards (per `shardOf`). */
  readonly crossShardCount: number;
}

export const pairKinds = ['uniform', 'co-located'] as const;
export type PairKind = (typeof pairKinds)[number];

export interface Workload {
  readonly seed: number;
  readonly pairs: PairKind;
  readonly ids: IdKind;
  readonly currency: string;
  readonly accountIds: readonly string[];
  readonly batchSize: number;
  readonly transferCount: number;
  readonly batchCount: number;
  /** Batch `index` in [0, batchCount), generated on demand (deterministic). */
  batch(index: number): WorkloadBatch;
  /** Every batch, materialized: small workloads only (throws above 10 million transfers). */
  readonly batches: readonly WorkloadBatch[];
  /** Cross-shard transfers over every batch (materializes: small workloads only). */
  readonly crossShardCount: number;
}

export function accountIdOf(index: number): string {
  return `acct-${String(index + 1).padStart(6, '0')}`;
}

/** The ordered id of transfer number `counter` (0-based) of a run (`--ids ordered`). */
export const transferIdOf = orderedIdOf;

/** A PRNG seed for batch `index` of the workload seeded `seed` (a splitmix-style mix). */
export function batchSeedOf(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x2c1b3c6d);
  z = Math.imul(z ^ (z >>> 12), 0x297a2d39);
  return (z ^ (z >>> 15)) >>> 0;
}

interface Shape {
  readonly shardOfIndex: Uint32Array;
  readonly byShard: Map<number, Uint32Array>;
  readonly hot: ZipfSampler | null;
  readonly hotPermutation: Uint32Array | null;
  readonly pairs: PairKind;
  readonly crossShardRatio: number;
  readonly ids: IdKind;
  readonly runId: string;
}

export function generateWorkload(options: WorkloadOptions): Workload {
  const batchSize = options.batchSize ?? batchSizeDefault;
  const pairs = options.pairs ?? 'uniform';
  const ids = options.ids ?? 'uuidv4';
  const crossShardRatio = options.crossShardRatio ?? 0;
  const currency = options.currency ?? 'USD';
  const transferCount = options.transferCount ?? transferCountDefault;
  checkOptions(options, { batchSize, crossShardRatio, transferCount });
  if (pairs === 'uniform' && crossShardRatio > 0)
    throw new Error('crossShardRatio goes with co-located pairs');
  const accountIds = Array.from({ length: options.accountCount }, (_, index) => accountIdOf(index));
  const shape = shapeOf(options, accountIds, { pairs, ids, crossShardRatio });
  const batchCount = Math.ceil(transferCount / batchSize);
  const batch = batchSource(shape, {
    seed: options.seed,
    batchSize,
    transferCount,
    batchCount,
    accountCount: accountIds.length,
  });
  const all = (): WorkloadBatch[] => {
    if (transferCount > materializedTransferCountMax)
      throw new Error(
        `workload of ${transferCount} transfers is too large to materialize; use batch(index)`,
      );
    return Array.from({ length: batchCount }, (_, index) => batch(index));
  };
  return {
    seed: options.seed,
    pairs,
    ids,
    currency,
    accountIds,
    batchSize,
    transferCount,
    batchCount,
    batch,
    get batches() {
      return all();
    },
    get crossShardCount() {
      return all().reduce((sum, made) => sum + made.crossShardCount, 0);
    },
  };
}

/** What every batch of the workload is drawn from: the accounts' shards, the hot-account
 * sampler, and the pair and id kinds. */
function shapeOf(
  options: WorkloadOptions,
  accountIds: readonly string[],
  kinds: { pairs: PairKind; ids: IdKind; crossShardRatio: number },
): Shape {
  const { crossShardRatio } = kinds;
  const shardOf = options.shardOf ?? (() => 0);
  const shardOfIndex = Uint32Array.from(accountIds, (id) => shardOf(id));
  const byShard = groupByShard(shardOfIndex);
  if (crossShardRatio > 0 && byShard.size < 2)
    throw new Error('crossShardRatio > 0 needs accounts on at least two shards');
  const hot =
    options.hotExponent === undefined
      ? null
      : createZipfSampler({ count: accountIds.length, exponent: options.hotExponent });
  // Hot ranks map to a seeded permutation, so the hottest accounts are spread over shards.
  const hotPermutation =
    hot === null ? null : shuffledIndexes(accountIds.length, createPrng(options.seed));
  return {
    shardOfIndex,
    byShard,
    hot,
    hotPermutation,
    pairs: kinds.pairs,
    crossShardRatio,
    ids: kinds.ids,
    runId: options.runId ?? String(options.seed),
  };
}

/** Transfers generated at once for batches smaller than this (batchSource). */
const blockTransfers = batchSizeDefault;

/** `batch(index)`: each batch generated on first use from its own seed, the latest
 * `batchCacheSize` kept. Batches smaller than a block (single-calls: one transfer each) are cut
 * from blocks generated whole, each block from its own seed: generating a batch costs a few
 * microseconds whatever its size (two PRNG streams, four arrays), which for one transfer per call
 * cost the harness as much as the ledger's own work per call. */
function batchSource(
  shape: Shape,
  spec: {
    seed: number;
    batchSize: number;
    transferCount: number;
    batchCount: number;
    accountCount: number;
  },
): (index: number) => WorkloadBatch {
  const { batchSize, transferCount, batchCount } = spec;
  const perBlock = Math.max(1, Math.floor(blockTransfers / batchSize));
  const blockSize = perBlock * batchSize;
  const cache = new Map<number, WorkloadBatch>();
  /** Block `index` (transfers index * blockSize onwards), generated on first use. */
  const block = (index: number): WorkloadBatch => {
    const cached = cache.get(index);
    if (cached !== undefined) return cached;
    const first = index * blockSize;
    const made = generateBatch({
      shape,
      seed: spec.seed,
      index,
      first,
      size: Math.min(blockSize, transferCount - first),
      accountCount: spec.accountCount,
    });
    if (cache.size >= batchCacheSize) cache.delete(cache.keys().next().value as number);
    cache.set(index, made);
    return made;
  };
  return (index: number): WorkloadBatch => {
    if (!Number.isInteger(index) || index < 0 || index >= batchCount)
      throw new Error(`no batch ${index} (workload has ${batchCount})`);
    const whole = block(Math.floor(index / perBlock));
    if (perBlock === 1) return whole;
    return cutBatch(shape, whole, index, (index % perBlock) * batchSize, batchSize);
  };
}

/** Batch `index`: `size` transfers (fewer at the workload's end) of `block` from `from`. */
function cutBatch(
  shape: Shape,
  block: WorkloadBatch,
  index: number,
  from: number,
  size: number,
): WorkloadBatch {
  const to = Math.min(block.ids.length, from + size);
  const debit = block.debit.subarray(from, to);
  const credit = block.credit.subarray(from, to);
  let crossShardCount = 0;
  for (let item = 0; item < to - from; item++)
    if (shape.shardOfIndex[debit[item] as number] !== shape.shardOfIndex[credit[item] as number])
      crossShardCount++;
  return {
    index,
    ids: block.ids.slice(from, to),
    debit,
    credit,
    amount: block.amount.subarray(from, to),
    crossShardCount,
  };
}

function generateBatch(spec: {
  shape: Shape;
  seed: number;
  index: number;
  first: number;
  size: number;
  accountCount: number;
}): WorkloadBatch {
  const { shape, size } = spec;
  const prng = createPrng(batchSeedOf(spec.seed, spec.index));
  const ids = batchIdsOf({
    kind: shape.ids,
    runId: shape.runId,
    seed: spec.seed,
    index: spec.index,
    first: spec.first,
    size,
  });
  const debit = new Uint32Array(size);
  const credit = new Uint32Array(size);
  const amount = new Uint32Array(size);
  let crossShardCount = 0;
  for (let item = 0; item < size; item++) {
    const debitIndex =
      shape.hot === null || shape.hotPermutation === null
        ? prng.nextBelow(spec.accountCount)
        : (shape.hotPermutation[shape.hot.sample(prng)] as number);
    const cross = shape.crossShardRatio > 0 && prng.nextFloat() < shape.crossShardRatio;
    const creditIndex =
      shape.pairs === 'uniform'
        ? pickAnyCredit(debitIndex, prng, spec.accountCount)
        : pickCredit({
            debitIndex,
            cross,
            prng,
            shardOfIndex: shape.shardOfIndex,
            byShard: shape.byShard,
            accountCount: spec.accountCount,
          });
    if (shape.shardOfIndex[debitIndex] !== shape.shardOfIndex[creditIndex]) crossShardCount++;
    debit[item] = debitIndex;
    credit[item] = creditIndex;
    amount[item] =
      amountMinMinorUnits + prng.nextBelow(amountMaxMinorUnits - amountMinMinorUnits + 1);
  }
  return { index: spec.index, ids, debit, credit, amount, crossShardCount };
}

function checkOptions(
  options: WorkloadOptions,
  resolved: { batchSize: number; crossShardRatio: number; transferCount: number },
): void {
  const { batchSize, crossShardRatio, transferCount } = resolved;
  if (!Number.isInteger(options.accountCount) || options.accountCount < 2)
    throw new Error('accountCount must be an integer >= 2');
  if (!Number.isInteger(transferCount) || transferCount < 1 || transferCount > transferCountMax)
    throw new Error(`transferCount must be an integer in [1, ${transferCountMax}]`);
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error('batchSize must be an integer >= 1');
  if (!(crossShardRatio >= 0 && crossShardRatio <= 1))
    throw new Error('crossShardRatio must be in [0, 1]');
  if (crossShardRatio > 0 && options.shardOf === undefined)
    throw new Error('crossShardRatio needs shardOf');
}

/** The accounts as the ledger takes them. */
export function accountsOf(workload: Workload): AccountInput[] {
  return workload.accountIds.map((id) => ({ id, currency: workload.currency }));
}

/** Every amount a workload holds, as the bigint the ledger takes, made once: a bigint is an
 * immutable value, so sharing one is the same input as making a new one per transfer, without
 * the allocation (a garbage cost of the runner, not of the ledger). */
const amountBigints: readonly bigint[] = Array.from(
  { length: amountMaxMinorUnits + 1 },
  (_, amount) => BigInt(amount),
);

/** One batch as the ledger takes it (call before timing: it allocates). */
export function transfersOf(workload: Workload, batch: WorkloadBatch): TransferInput[] {
  const transfers = new Array<TransferInput>(batch.ids.length);
  for (let item = 0; item < batch.ids.length; item++) {
    transfers[item] = {
      id: batch.ids[item] as string,
      debitAccountId: workload.accountIds[batch.debit[item] as number] as string,
      creditAccountId: workload.accountIds[batch.credit[item] as number] as string,
      amount: amountBigints[batch.amount[item] as number] as bigint,
      currency: workload.currency,
    };
  }
  return transfers;
}

/** Sum of all amounts, for conservation checks. */
export function totalAmountOf(batches: readonly WorkloadBatch[]): bigint {
  let total = 0;
  for (const batch of batches)
    for (let item = 0; item < batch.amount.length; item++) total += batch.amount[item] as number;
  return BigInt(total);
}
