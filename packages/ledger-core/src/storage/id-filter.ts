// A filter of transfer ids: answers "certainly never seen" or "maybe seen" in well under a
// microsecond, without touching the disk. A shard keeps every transfer id it knows (stored, staged
// or reserved) in one, so a new id, which is what nearly every transfer carries, costs no LMDB
// lookup whatever its order: only a "maybe" (a retry, or a false positive about once in a
// thousand) goes on to the index.
//
// Shape: a split-block Bloom filter (the layout Apache Parquet and Impala use). Each block is eight
// 32-bit words, 32 bytes; an id sets one bit in each word of one block, so a check reads one cache
// line. At 16 bits per id (2 bytes) the false-positive rate is about 0.1%. The filter grows by
// layers: when the newest layer holds its capacity, a layer of twice the capacity is added; a check
// asks each layer (a handful at any realistic size), so growing never rescans the stored ids.
// Each full layer adds its false positives, and each "maybe" costs the shard a lookup of tens of
// microseconds, so the first layer is large (a million ids, 2 MB, its pages touched only as ids
// land in them): a shard's first million ids make one layer, not five.

import { assert } from '../assert.js';

/** Odd multipliers of the split-block Bloom filter: one per word of a block. */
const SALT = new Uint32Array([
  0x47b6137b, 0x44974d91, 0x8824ad5b, 0xa2b7289d, 0x705495c7, 0x2df1424b, 0x9efc4947, 0x5c6bfb31,
]);
const WORDS_PER_BLOCK = 8;
/** Bits per id at capacity: 16 (2 bytes), for about one false positive in a thousand. */
const BITS_PER_ID = 16;
const BLOCK_BITS = WORDS_PER_BLOCK * 32;
/** The capacity of a first layer that is not sized from a count. */
export const idFilterCapacityMin = 1 << 20;

/** Two independent 32-bit hashes of a string's UTF-16 code units (FNV-1a and a murmur3-style
 * mix, finalised), written into `out`. Ids are short strings, so a pass over the code units
 * costs less than encoding them. */
export function hashId(id: string, out: Uint32Array): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ id.length;
  for (let index = 0; index < id.length; index += 1) {
    const unit = id.charCodeAt(index);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  finishHash(a, b, out);
}

/** hashId of the id whose UTF-8 bytes are `bytes` from `start` to `end`, when every byte is ASCII
 * (each is then one code unit of the id); false, and `out` untouched, when one is not. What a
 * merge of runs hashes ids with, without decoding them. */
export function hashAsciiBytes(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint32Array,
): boolean {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ (end - start);
  for (let at = start; at < end; at += 1) {
    const unit = bytes[at] as number;
    if (unit > 0x7f) return false;
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
  }
  finishHash(a, b, out);
  return true;
}

/** hashId of the id whose UTF-8 bytes are `bytes` from `start` to `end`, decoded only when
 * one is not ASCII. */
export function hashIdBytes(bytes: Buffer, start: number, end: number, out: Uint32Array): void {
  if (!hashAsciiBytes(bytes, start, end, out)) hashId(bytes.toString('utf8', start, end), out);
}

function finishHash(a: number, b: number, out: Uint32Array): void {
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 13;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  out[0] = a;
  out[1] = b;
}

class Layer {
  readonly words: Uint32Array;
  readonly blocks: number;
  readonly capacity: number;
  count = 0;

  /** A new empty layer for `capacity` ids, or a full one over a snapshot's `words`. */
  constructor(capacity: number, words?: Uint32Array) {
    this.capacity = capacity;
    this.blocks =
      words === undefined ? blocksFor(capacity, BITS_PER_ID) : words.length / WORDS_PER_BLOCK;
    assert(Number.isInteger(this.blocks) && this.blocks > 0, 'a filter layer has whole blocks');
    this.words = words ?? new Uint32Array(this.blocks * WORDS_PER_BLOCK);
  }

  add(blockHash: number, bitHash: number): void {
    const base = ((blockHash >>> 0) % this.blocks) * WORDS_PER_BLOCK;
    const words = this.words;
    for (let word = 0; word < WORDS_PER_BLOCK; word += 1) {
      const bit = Math.imul(bitHash, SALT[word] as number) >>> 27;
      words[base + word] = (words[base + word] as number) | (1 << bit);
    }
    this.count += 1;
  }

  has(blockHash: number, bitHash: number): boolean {
    const base = ((blockHash >>> 0) % this.blocks) * WORDS_PER_BLOCK;
    const words = this.words;
    for (let word = 0; word < WORDS_PER_BLOCK; word += 1) {
      const bit = Math.imul(bitHash, SALT[word] as number) >>> 27;
      if (((words[base + word] as number) & (1 << bit)) === 0) return false;
    }
    return true;
  }
}

export class IdFilter {
  readonly #layers: Layer[];
  readonly #hash = new Uint32Array(2);
  /** The id whose hash #hash holds, or null. */
  #hashed: string | null = null;

  /** `expected`: about how many ids the filter will hold soon (the stored count on open); the
   * first layer holds twice that, at least idFilterCapacityMin. `stored`: snapshots of other
   * filters (IdFilter.snapshot) whose ids this one answers for too, read-only (new ids go to the
   * filter's own layers). */
  constructor(expected = 0, stored: readonly IdFilterSnapshot[] = []) {
    assert(Number.isSafeInteger(expected) && expected >= 0, 'an id count is a natural number');
    this.#layers = stored.flatMap((snapshot) =>
      snapshot.layers.map((words) => new Layer(0, words)),
    );
    this.#layers.push(new Layer(Math.max(idFilterCapacityMin, expected * 2)));
  }

  /** Ids added (a repeated id counts each time). */
  get count(): number {
    let total = 0;
    for (const layer of this.#layers) total += layer.count;
    return total;
  }

  /** Memory held by the filter's bits. */
  get bytes(): number {
    let total = 0;
    for (const layer of this.#layers) total += layer.words.byteLength;
    return total;
  }

  add(id: string): void {
    const hash = this.#hash;
    // The lane asks (mayHave) and then adds the same id: its hash is computed once.
    if (id !== this.#hashed) hashId(id, hash);
    this.#hashed = null;
    this.#addHash(hash[0] as number, hash[1] as number);
  }

  #addHash(blockHash: number, bitHash: number): void {
    let layer = this.#layers[this.#layers.length - 1] as Layer;
    if (layer.count >= layer.capacity) {
      layer = new Layer(layer.capacity * 2);
      this.#layers.push(layer);
    }
    layer.add(blockHash, bitHash);
  }

  /** mayHave of the id whose hashId is at 2 * `at` and 2 * `at` + 1 of `hashes`. */
  mayHaveHashed(hashes: Uint32Array, at: number): boolean {
    this.#hashed = null;
    const hash = this.#hash;
    hash[0] = hashes[2 * at] as number;
    hash[1] = hashes[2 * at + 1] as number;
    return layersMayHave(this.#layers, hash);
  }

  /** add of the id whose hashId is at 2 * `at` and 2 * `at` + 1 of `hashes`. */
  addHashed(hashes: Uint32Array, at: number): void {
    this.#hashed = null;
    this.#addHash(hashes[2 * at] as number, hashes[2 * at + 1] as number);
  }

  /** False when `id` was certainly never added; true when it may have been. */
  mayHave(id: string): boolean {
    const hash = this.#hash;
    hashId(id, hash);
    this.#hashed = id;
    return layersMayHave(this.#layers, hash);
  }

  /** A copy of the filter's bits as they are now: a filter given it as `stored` answers for the
   * ids added so far (another thread's check of this shard's ids), and IdFilter.resume makes
   * this filter again from it (a shard snapshot keeps it, so an open need not re-read every id). */
  snapshot(): IdFilterSnapshot {
    const live = this.live();
    return { ...live, layers: live.layers.map((words) => words.slice()) };
  }

  /** The filter's layers as they are, without a copy: bits are only ever set, so whenever the
   * words are read they answer for every id added by now (and maybe later ones). A shard snapshot
   * reads them while it encodes, instead of copying them while writes wait. */
  live(): IdFilterSnapshot {
    return {
      layers: this.#layers.map((layer) => layer.words),
      capacities: this.#layers.map((layer) => layer.capacity),
      counts: this.#layers.map((layer) => layer.count),
    };
  }

  /** The filter `snapshot` was taken of, going on from there: its layers, each with its
   * capacity and count, the last one taking the ids added from now on. */
  static resume(snapshot: IdFilterSnapshot): IdFilter {
    const { layers, capacities, counts } = snapshot;
    assert(
      layers.length > 0 && capacities.length === layers.length && counts.length === layers.length,
      'a resumed filter has its layers, each with its capacity and count',
    );
    const filter = new IdFilter();
    filter.#layers.length = 0;
    layers.forEach((words, index) => {
      const capacity = capacities[index] as number;
      const count = counts[index] as number;
      assert(
        Number.isSafeInteger(capacity) && capacity > 0 && Number.isSafeInteger(count) && count >= 0,
        "a filter layer's capacity and count",
      );
      const layer = new Layer(capacity, words);
      assert(
        layer.blocks === filterLayerBlocks(capacity),
        'a layer has the blocks of its capacity',
      );
      layer.count = count;
      filter.#layers.push(layer);
    });
    return filter;
  }
}

/** The bits of an IdFilter at one moment, layer by layer (IdFilter.snapshot), with each layer's
 * capacity and the ids added to it. */
export interface IdFilterSnapshot {
  readonly layers: readonly Uint32Array[];
  readonly capacities: readonly number[];
  readonly counts: readonly number[];
}

/** Whether any of `layers` may hold the id of `hash` (hashId's two words). */
function layersMayHave(layers: readonly Layer[], hash: Uint32Array): boolean {
  const a = hash[0] as number;
  const b = hash[1] as number;
  for (let index = layers.length - 1; index >= 0; index -= 1)
    if ((layers[index] as Layer).has(a, b)) return true;
  return false;
}

/** How many blocks a layer of an IdFilter for `capacity` ids has. */
export function filterLayerBlocks(capacity: number): number {
  return blocksFor(capacity, BITS_PER_ID);
}

/** How many blocks a filter of `count` ids at `bitsPerId` has (at least one). */
function blocksFor(count: number, bitsPerId: number): number {
  return Math.max(1, Math.ceil((count * bitsPerId) / BLOCK_BITS));
}

/** A filter of a set of ids that never grows (a run of the index), sized for `count` ids at
 * `bitsPerId` bits each; asked with fixedFilterMayHave. */
export class FixedFilterBuilder {
  readonly words: Uint32Array;
  private readonly blocks: number;
  private readonly hash = new Uint32Array(2);
  constructor(count: number, bitsPerId: number) {
    this.blocks = blocksFor(count, bitsPerId);
    this.words = new Uint32Array(this.blocks * WORDS_PER_BLOCK);
  }
  add(id: string): void {
    hashId(id, this.hash);
    this.set();
  }
  /** add() of the id whose hashId is (`blockHash`, `bitHash`). */
  addHash(blockHash: number, bitHash: number): void {
    this.hash[0] = blockHash;
    this.hash[1] = bitHash;
    this.set();
  }
  private set(): void {
    const hash = this.hash;
    const words = this.words;
    const base = (((hash[0] as number) >>> 0) % this.blocks) * WORDS_PER_BLOCK;
    const bitHash = hash[1] as number;
    for (let word = 0; word < WORDS_PER_BLOCK; word += 1) {
      const bit = Math.imul(bitHash, SALT[word] as number) >>> 27;
      words[base + word] = (words[base + word] as number) | (1 << bit);
    }
  }
}

/** Whether the fixed filter `words` may hold the id whose hashId is `hash`; false when it
 * certainly does not. A lookup that asks several filters hashes its id once. */
export function fixedFilterMayHave(words: Uint32Array, hash: Uint32Array): boolean {
  const blocks = words.length / WORDS_PER_BLOCK;
  const base = (((hash[0] as number) >>> 0) % blocks) * WORDS_PER_BLOCK;
  const bitHash = hash[1] as number;
  for (let word = 0; word < WORDS_PER_BLOCK; word += 1) {
    const bit = Math.imul(bitHash, SALT[word] as number) >>> 27;
    if (((words[base + word] as number) & (1 << bit)) === 0) return false;
  }
  return true;
}
