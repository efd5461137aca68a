// Account id -> virtual partition -> shard. The hash is part of the on-disk format (the manifest
// names it): once a data dir exists, its accounts must hash to the same partitions forever, on
// every platform. So this is FNV-1a 32-bit over the id's UTF-8 bytes, written out by hand: no
// dependency whose output could change, no TextEncoder allocation on the per-transfer hot path.

import { LedgerError, limits } from '@shardledger/ledger-core';
import { assert, isValidId } from '@shardledger/ledger-core/internals';

/** The name stored in the manifest; a data dir with another name is refused. */
export const hashAlgorithm = 'fnv1a32' as const;
export type HashAlgorithm = typeof hashAlgorithm;

const fnvOffsetBasis = 0x811c9dc5;
const fnvPrime = 0x01000193;

/** FNV-1a 32-bit of the UTF-8 encoding of `text`, as an unsigned integer. Lone surrogates are
 * hashed as U+FFFD, exactly as TextEncoder would encode them. */
export function hashAccountId(text: string): number {
  let hash = fnvOffsetBasis;
  const length = text.length;
  // The ASCII prefix (all of most ids) in a tight loop: one UTF-8 byte per character.
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0x80) return hashNonAscii(text, index, hash);
    hash = Math.imul(hash ^ code, fnvPrime);
  }
  return hash >>> 0;
}

/** hashAccountId from `start` on, given the hash of the characters before it. */
function hashNonAscii(text: string, start: number, hashBefore: number): number {
  let hash = hashBefore;
  const length = text.length;
  for (let index = start; index < length; index++) {
    let code = text.charCodeAt(index);
    if (code < 0x80) {
      hash = Math.imul(hash ^ code, fnvPrime);
      continue;
    }
    if (code < 0x800) {
      hash = Math.imul(hash ^ (0xc0 | (code >> 6)), fnvPrime);
      hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), fnvPrime);
      continue;
    }
    if (code >= 0xd800 && code <= 0xdfff) {
      const next = index + 1 < length ? text.charCodeAt(index + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        index++;
        hash = Math.imul(hash ^ (0xf0 | (code >> 18)), fnvPrime);
        hash = Math.imul(hash ^ (0x80 | ((code >> 12) & 0x3f)), fnvPrime);
        hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), fnvPrime);
        hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), fnvPrime);
        continue;
      }
      code = 0xfffd;
    }
    hash = Math.imul(hash ^ (0xe0 | (code >> 12)), fnvPrime);
    hash = Math.imul(hash ^ (0x80 | ((code >> 6) & 0x3f)), fnvPrime);
    hash = Math.imul(hash ^ (0x80 | (code & 0x3f)), fnvPrime);
  }
  return hash >>> 0;
}

/** hashAccountId of `id` when it is a valid id made of printable ASCII only (the common case:
 * one pass both validates and hashes, since each character is its own UTF-8 byte); -1 when it is
 * not a string, empty, longer than limits.idSizeBytesMax, or holds any other character (invalid,
 * or valid but not ASCII: the caller then takes the general path). */
export function printableAsciiIdHash(id: unknown): number {
  if (typeof id !== 'string') return -1;
  const length = id.length;
  if (length === 0 || length > limits.idSizeBytesMax) return -1;
  let hash = fnvOffsetBasis;
  for (let index = 0; index < length; index++) {
    const code = id.charCodeAt(index);
    if (code < 0x20 || code > 0x7e) return -1;
    hash = Math.imul(hash ^ code, fnvPrime);
  }
  return hash >>> 0;
}

/** The partition of an account id's hash (hashAccountId). */
function partitionOfHash(hash: number, partitionCount: number): number {
  return ((hash ^ (hash >>> 16)) >>> 0) % partitionCount;
}

/** The virtual partition of an account: its hash, xor-folded, modulo the partition count. FNV-1a's
 * low bits mix poorly (bit 0 is the parity of the bytes' bit 0), so the high half is folded in
 * before the modulo, as FNV's authors advise; over 100k sequential ids this gives a chi-square
 * per degree of freedom of 1.00 across 4,096 partitions, against 1.3 for a plain modulo. */
export function partitionOf(accountId: string, partitionCount: number): number {
  return partitionOfHash(hashAccountId(accountId), partitionCount);
}

/** Partition i goes to shard i % shards: every shard owns partitionCount / shards partitions
 * (+1 for the first partitionCount % shards shards). */
export function defaultPartitionMap(options: { shards: number; partitionCount: number }): number[] {
  const { shards, partitionCount } = options;
  assertShardCount(shards);
  assert(Number.isSafeInteger(partitionCount), 'partitionCount is an integer');
  assert(partitionCount >= shards, 'every shard owns at least one partition');
  const map = new Array<number>(partitionCount);
  for (let partition = 0; partition < partitionCount; partition++)
    map[partition] = partition % shards;
  return map;
}

/** Throws INVALID_ARGUMENT unless `shards` is an integer in 1..limits.shardCountMax. */
export function assertShardCount(shards: unknown): asserts shards is number {
  if (
    typeof shards !== 'number' ||
    !Number.isSafeInteger(shards) ||
    shards < 1 ||
    shards > limits.shardCountMax
  ) {
    throw new LedgerError('INVALID_ARGUMENT', {
      field: 'shards',
      shardCountMax: limits.shardCountMax,
    });
  }
}

/** Describes why `map` is not a valid partition map for `shards`, or returns null when it is:
 * one integer shard index in 0..shards-1 per partition, and every shard owns a partition. */
export function partitionMapProblem(map: unknown, shards: number): string | null {
  if (!Array.isArray(map)) return 'partitionMap is not an array';
  if (map.length < shards) return 'fewer partitions than shards';
  const owned = new Uint32Array(shards);
  for (let partition = 0; partition < map.length; partition++) {
    const shard: unknown = map[partition];
    if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
      return `partition ${partition} maps to an invalid shard`;
    }
    owned[shard] = (owned[shard] ?? 0) + 1;
  }
  const idle = owned.indexOf(0);
  if (idle !== -1) return `shard ${idle} owns no partition`;
  return null;
}

/** The routing table of one ledger: immutable, two array reads per lookup. */
export class PartitionMap {
  readonly shards: number;
  readonly partitionCount: number;
  readonly #shardOfPartition: Uint16Array;

  constructor(options: { shards: number; partitionMap: readonly number[] }) {
    assertShardCount(options.shards);
    const problem = partitionMapProblem(options.partitionMap, options.shards);
    if (problem !== null)
      throw new LedgerError('INVALID_ARGUMENT', { field: 'partitionMap', problem });
    this.shards = options.shards;
    this.partitionCount = options.partitionMap.length;
    // shardCountMax (256) fits a Uint16Array with room to grow.
    this.#shardOfPartition = Uint16Array.from(options.partitionMap);
  }

  static even(options: { shards: number; partitionCount?: number }): PartitionMap {
    const partitionCount = options.partitionCount ?? limits.partitionCount;
    const partitionMap = defaultPartitionMap({ shards: options.shards, partitionCount });
    return new PartitionMap({ shards: options.shards, partitionMap });
  }

  partitionOf(accountId: string): number {
    return partitionOf(accountId, this.partitionCount);
  }

  shardOfPartition(partition: number): number {
    const shard = this.#shardOfPartition[partition];
    assert(shard !== undefined, 'partition is in range');
    return shard;
  }

  /** The shard that owns `accountId`. Hot path: one hash, one fold, one modulo, one array read. */
  shardOf(accountId: string): number {
    return this.#shardOfPartition[partitionOf(accountId, this.partitionCount)] as number;
  }

  /** The shard that owns the accounts whose id hashes (hashAccountId) to `hash`. */
  shardOfHash(hash: number): number {
    return this.#shardOfPartition[partitionOfHash(hash, this.partitionCount)] as number;
  }

  toArray(): number[] {
    return Array.from(this.#shardOfPartition);
  }
}

/** Ids remembered by one AccountShardMemo before it starts over (bounded): 64 Ki
 * ids of at most 128 bytes each stay under ~16 MiB. A workload with more hot accounts than this
 * still works, it just hashes more often. */
export const accountShardMemoSizeMax = 65_536;

/** The shard of each valid account id. A printable-ASCII id (nearly every id) is validated and
 * hashed in one pass on the spot (printableAsciiIdHash): in the router's write path that cost
 * about 19 ns per id, against about 120 ns for a lookup of a memo of the accounts in use (10,000
 * accounts, calls of one transfer from 512 callers: the Map's entries are out of the caches by the
 * time an id comes back). Any other id takes the general path (isValidId, then a hash of its
 * UTF-8 bytes), whose shard is remembered, so that a repeated one costs one Map lookup instead.
 * Only valid ids are stored, so a hit also proves the id valid. It watches whether it pays: after
 * as many lookups as it holds ids, when fewer than half of them found their id (the accounts in
 * use are many more than it holds), it stops being asked and takes the general path for every id,
 * asking only one lookup in `sampleEvery` (and remembering those ids afresh) to see whether it
 * would pay again. When full, it starts over. */
export class AccountShardMemo {
  readonly #partitions: PartitionMap;
  readonly #shardOfId = new Map<unknown, number>();
  readonly #sizeMax: number;
  /** Lookups of the memo and hits since it last looked at whether it pays. */
  #lookups = 0;
  #hits = 0;
  /** Whether the memo is asked for every id (else one in sampleEvery). */
  #asked = true;
  #skipped = 0;

  constructor(options: { partitions: PartitionMap; sizeMax?: number }) {
    this.#partitions = options.partitions;
    this.#sizeMax = options.sizeMax ?? accountShardMemoSizeMax;
    assert(Number.isSafeInteger(this.#sizeMax), 'memo size is an integer');
    assert(this.#sizeMax >= 1, 'memo holds at least one id');
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#shardOfId.size;
  }

  /** Whether every id is looked up in the memo now (it pays), rather than a sample of them. */
  get asked(): boolean {
    return this.#asked;
  }

  /** The shard of `id` when it is a valid account id (isValidId), else -1. Takes any value. */
  shardOfValid(id: unknown): number {
    const hash = printableAsciiIdHash(id);
    if (hash >= 0) return this.#partitions.shardOfHash(hash);
    const ask = this.#asked || (this.#skipped = (this.#skipped + 1) % sampleEvery) === 0;
    if (ask) {
      const known = this.#shardOfId.get(id);
      this.#count(known !== undefined);
      if (known !== undefined) return known;
    }
    if (!isValidId(id)) return -1;
    const shard = this.#partitions.shardOf(id);
    if (!ask) return shard;
    if (this.#shardOfId.size >= this.#sizeMax) this.#shardOfId.clear();
    this.#shardOfId.set(id, shard);
    return shard;
  }

  /** Counts a lookup of the memo; after a window of them, decides whether it pays. */
  #count(hit: boolean): void {
    this.#lookups += 1;
    if (hit) this.#hits += 1;
    // A sampled window is as long in lookups of the memo, sampleEvery times as long in ids.
    if (this.#lookups < (this.#asked ? this.#sizeMax : this.#sizeMax / sampleEvery)) return;
    this.#asked = 2 * this.#hits >= this.#lookups;
    // Not paying: what it holds is not what is in use; the sampled ids fill it afresh.
    if (!this.#asked) this.#shardOfId.clear();
    this.#lookups = 0;
    this.#hits = 0;
  }
}

/** While the memo does not pay, one id in this many is still looked up in it. */
const sampleEvery = 16;
