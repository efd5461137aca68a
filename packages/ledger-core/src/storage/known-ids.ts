// The ids one index knows (transfer ids, or saga ids), kept in memory so that a new id needs no
// disk lookup whatever its order:
// - the greatest id: while every id seen is ASCII, JavaScript's string order equals LMDB's byte
//   order, and `id > max` proves an id is new with one comparison. Time-ordered ids (UUIDv7, or
//   any id above every one before it) take this path, and the plain lane keeps them in runs.
// - a filter of every id (id-filter.ts): "certainly never seen" for any other new id, such as a
//   random UUIDv4, at about 0.1% false positives; only those and real repeats reach LMDB.
// Every id the index holds, stored, staged or reserved, is noted here before it can be looked
// up: the filter is filled from the whole index on open (fill) and by every note afterwards.

import { hashId, IdFilter, type IdFilterSnapshot } from './id-filter.js';

/** Whether every code unit of `text` is ASCII. */
export function isAscii(text: string): boolean {
  for (let index = 0; index < text.length; index += 1)
    if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

/** A KnownIds at one moment: its greatest id, whether that proves anything, and its filter. */
export interface KnownIdsImage {
  readonly max: string;
  readonly fastPath: boolean;
  readonly filter: IdFilterSnapshot;
}

export class KnownIds {
  max = '';
  /** Turns false for good at the first id that is not ASCII: from then on `max` proves nothing. */
  fastPath = true;
  #filter: IdFilter;

  constructor(expected = 0) {
    this.#filter = new IdFilter(expected);
  }

  /** Starts over with the ids of the whole index, `expected` of them (open). */
  fill(expected: number, ids: Iterable<string>): void {
    this.max = '';
    this.fastPath = true;
    this.#filter = new IdFilter(expected);
    for (const id of ids) this.note(id);
  }

  /** Notes an id written to the index; returns whether it was above every id before it while
   * on the fast path (what lets a saga outcome join its commit's saga run). */
  note(id: string): boolean {
    this.#filter.add(id);
    if (!isAscii(id)) {
      this.fastPath = false;
      return false;
    }
    if (id <= this.max) return false;
    this.max = id;
    return this.fastPath;
  }

  /** The hashes of the batch column that prepare() was given last, two words per id. */
  #hashes = new Uint32Array(0);
  readonly #hash = new Uint32Array(2);

  /** Hashes the first `count` ids of a batch column (hashId) ahead of the lane, once each: the
   * lane then asks with mayHaveAt and notes with noteAboveAt and noteOtherAt, by the id's index
   * in the column, and a scattered run's filter takes the same hashes. */
  prepare(ids: readonly string[], count: number): void {
    if (this.#hashes.length < 2 * count) this.#hashes = new Uint32Array(2 * count);
    const hashes = this.#hashes;
    const one = this.#hash;
    for (let at = 0; at < count; at += 1) {
      hashId(ids[at] as string, one);
      hashes[2 * at] = one[0] as number;
      hashes[2 * at + 1] = one[1] as number;
    }
  }

  /** The hashes prepare() wrote: the id at column k has its two words at 2k and 2k + 1. */
  get preparedHashes(): Uint32Array {
    return this.#hashes;
  }

  /** mayHave of the prepared id at `at`. */
  mayHaveAt(at: number): boolean {
    return this.#filter.mayHaveHashed(this.#hashes, at);
  }

  /** Notes the prepared id `id` at `at`, which the caller found ASCII and above `max` on the
   * fast path (the lane). */
  noteAboveAt(id: string, at: number): void {
    this.#filter.addHashed(this.#hashes, at);
    this.max = id;
  }

  /** Notes the prepared id at `at`, which the caller found new and not above `max` (the lane's
   * random ids). */
  noteOtherAt(at: number): void {
    this.#filter.addHashed(this.#hashes, at);
  }

  /** Whether `id` is provably in no index entry: above the maximum while on the fast path. */
  isAbove(id: string): boolean {
    return this.fastPath && id > this.max && isAscii(id);
  }

  /** Whether `id` is certainly in no index entry, staged or stored: above the maximum, or never
   * added to the filter. False means "look it up". */
  isNew(id: string): boolean {
    return this.isAbove(id) || !this.#filter.mayHave(id);
  }

  /** Whether the filter may hold `id` (tests: after open, every id of the index). */
  mayHave(id: string): boolean {
    return this.#filter.mayHave(id);
  }

  /** A copy of the filter's bits now (IdFilter.snapshot). */
  filterSnapshot(): IdFilterSnapshot {
    return this.#filter.snapshot();
  }

  /** What this holds now, to be resumed from (a shard snapshot keeps it): the filter's live words
   * (IdFilter.live), which only ever gain ids. */
  image(): KnownIdsImage {
    return { max: this.max, fastPath: this.fastPath, filter: this.#filter.live() };
  }

  /** Starts over from an image: every id it knew is known again (open, from a snapshot). */
  resume(image: KnownIdsImage): void {
    this.max = image.max;
    this.fastPath = image.fastPath;
    this.#filter = IdFilter.resume(image.filter);
  }

  /** Ids noted (a repeated id counts each time). */
  get count(): number {
    return this.#filter.count;
  }

  /** Memory held by the filter. */
  get filterBytes(): number {
    return this.#filter.bytes;
  }
}
