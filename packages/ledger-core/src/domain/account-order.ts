// The accounts of a shard in id order, per currency: the index that lists accounts a page at a
// time (after an id, at most `limit`) without reading the log or sorting. Kept by evolve as each
// AccountCreated is applied, and carried by snapshots (snapshot-store.ts), so opening a shard
// never sorts its accounts.
//
// Why sorted chunks: an array of arrays of at most chunkSizeMax ids, each ascending, the chunks
// ascending too. An insert is two binary searches and a splice of one chunk (measured on the
// 2-core dev machine: 0.7 us per random UUID at 100,000 accounts), a page is one binary search
// and a walk. A single sorted array would move every id after the insert; sorting on demand took
// 140 ms for 100,000 random UUIDs, past what a page may cost.
//
// Order: JavaScript's string order (UTF-16 code units), the same on every shard, so the router
// merges pages of several shards with the same comparison (ascending).

import { assert } from '../assert.js';

/** Ids per chunk before it splits in two. */
const chunkSizeMax = 1_024;

/** What SortedIds.cut gives: its ids, in order, with their ordinals, as they were at the cut. */
export interface SortedIdsCut {
  readonly size: number;
  /** Chunks shared with the live index, which copies a chunk before it changes it. */
  readonly ids: readonly (readonly string[])[];
  readonly ordinals: readonly (readonly number[])[];
}

/** Ascending ids in chunks, each with its account's ordinal (a snapshot stores the order as
 * ordinals: looking a million ids up in the accounts' map to find them took the shard some
 * 400 ms per snapshot). */
export class SortedIds {
  private readonly chunks: string[][] = [];
  /** The ordinal of each id of `chunks`, at the same place. */
  private readonly ordinalChunks: number[][] = [];
  /** Whether each chunk is this index's own; false while a cut taken since shares it. */
  private readonly owned: boolean[] = [];
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Ids known to be ascending and new (a snapshot's order), with their ordinals: appended at
   * the end. */
  static fromAscending(ids: readonly string[], ordinals: readonly number[]): SortedIds {
    assert(ids.length === ordinals.length, 'an ordinal per id');
    const sorted = new SortedIds();
    for (let start = 0; start < ids.length; start += chunkSizeMax / 2) {
      const chunk = ids.slice(start, start + chunkSizeMax / 2);
      for (let index = 1; index < chunk.length; index += 1)
        assert((chunk[index - 1] as string) < (chunk[index] as string), 'ids ascending');
      const last = sorted.chunks[sorted.chunks.length - 1];
      if (last !== undefined)
        assert((last[last.length - 1] as string) < (chunk[0] as string), 'chunks ascending');
      sorted.chunks.push(chunk);
      sorted.ordinalChunks.push(ordinals.slice(start, start + chunkSizeMax / 2));
      sorted.owned.push(true);
      sorted.total += chunk.length;
    }
    return sorted;
  }

  /** The index a cut describes, sharing its chunks (each copied before it changes here). */
  static fromCut(cut: SortedIdsCut): SortedIds {
    assert(cut.ids.length === cut.ordinals.length, 'an ordinal chunk per id chunk');
    const sorted = new SortedIds();
    cut.ids.forEach((chunk, at) => {
      sorted.chunks.push(chunk as string[]);
      sorted.ordinalChunks.push(cut.ordinals[at] as number[]);
      sorted.owned.push(false);
      sorted.total += chunk.length;
    });
    assert(sorted.total === cut.size, 'a cut holds its size of ids');
    return sorted;
  }

  /** The chunk an id belongs in: the last whose first id is at most `id` (else the first). */
  private chunkOf(id: string): number {
    let low = 0;
    let high = this.chunks.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (((this.chunks[middle] as string[])[0] as string) <= id) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /** Adds an id that is not here yet, with its account's ordinal. */
  add(id: string, ordinal: number): void {
    if (this.chunks.length === 0) {
      this.chunks.push([id]);
      this.ordinalChunks.push([ordinal]);
      this.owned.push(true);
      this.total = 1;
      return;
    }
    const at = this.chunkOf(id);
    if (this.owned[at] !== true) {
      // A cut shares this chunk: it keeps the chunk as it was.
      this.chunks[at] = (this.chunks[at] as string[]).slice();
      this.ordinalChunks[at] = (this.ordinalChunks[at] as number[]).slice();
      this.owned[at] = true;
    }
    const chunk = this.chunks[at] as string[];
    const ordinals = this.ordinalChunks[at] as number[];
    const position = firstAbove(chunk, id);
    assert(position === 0 || chunk[position - 1] !== id, 'an id added twice');
    if (position === chunk.length) {
      chunk.push(id);
      ordinals.push(ordinal);
    } else {
      chunk.splice(position, 0, id);
      ordinals.splice(position, 0, ordinal);
    }
    this.total += 1;
    if (chunk.length > chunkSizeMax) {
      this.chunks.splice(at + 1, 0, chunk.splice(chunkSizeMax / 2));
      this.ordinalChunks.splice(at + 1, 0, ordinals.splice(chunkSizeMax / 2));
      this.owned.splice(at + 1, 0, true);
    }
  }

  /** Up to `limit` ids above `after` (null: from the first), ascending. */
  page(after: string | null, limit: number): string[] {
    const found: string[] = [];
    if (this.chunks.length === 0 || limit <= 0) return found;
    let at = after === null ? 0 : this.chunkOf(after);
    let position = after === null ? 0 : firstAbove(this.chunks[at] as string[], after);
    while (at < this.chunks.length && found.length < limit) {
      const chunk = this.chunks[at] as string[];
      while (position < chunk.length && found.length < limit) {
        found.push(chunk[position] as string);
        position += 1;
      }
      at += 1;
      position = 0;
    }
    return found;
  }

  /** Every id, ascending. (A loop: Array.prototype.flat took 23 ms for 100,000 ids here.) */
  all(): string[] {
    return flatten(this.chunks, this.total);
  }

  /** The ordinals of every id, in id order. */
  ordinals(): number[] {
    return flatten(this.ordinalChunks, this.total);
  }

  /** The ordinals in id order as they are now, without copying them (a snapshot's pause): the
   * chunks are shared with the cut, and each is copied before its next change. */
  cut(): SortedIdsCut {
    this.owned.fill(false);
    return { size: this.total, ids: this.chunks.slice(), ordinals: this.ordinalChunks.slice() };
  }
}

/** The `total` values of `chunks`, in order, in one array. */
function flatten<Value>(chunks: readonly (readonly Value[])[], total: number): Value[] {
  const values = new Array<Value>(total);
  let at = 0;
  for (const chunk of chunks) for (const value of chunk) values[at++] = value;
  return values;
}

/** The first position in the ascending `chunk` whose id is above `id`. */
function firstAbove(chunk: readonly string[], id: string): number {
  let low = 0;
  let high = chunk.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((chunk[middle] as string) <= id) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Ascending string order, as every listing compares ids. */
export function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** A shard's accounts in id order, one SortedIds per currency. */
export class AccountOrder {
  readonly byCurrency = new Map<string, SortedIds>();

  add(id: string, currency: string, ordinal: number): void {
    let ids = this.byCurrency.get(currency);
    if (ids === undefined) {
      ids = new SortedIds();
      this.byCurrency.set(currency, ids);
    }
    ids.add(id, ordinal);
  }

  /** Up to `limit` account ids above `after` (null: from the first), ascending; only those in
   * `currency` when it is not null. Without a currency, each currency's next `limit` ids are
   * merged: O(currencies x limit). */
  page(after: string | null, limit: number, currency: string | null): string[] {
    if (currency !== null) return this.byCurrency.get(currency)?.page(after, limit) ?? [];
    const merged: string[] = [];
    for (const ids of this.byCurrency.values()) merged.push(...ids.page(after, limit));
    if (this.byCurrency.size > 1) merged.sort(compareIds);
    return merged.length > limit ? merged.slice(0, limit) : merged;
  }
}
