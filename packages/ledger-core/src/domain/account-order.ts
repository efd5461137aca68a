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

/** Ascending ids in chunks. */
export class SortedIds {
  private readonly chunks: string[][] = [];
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Ids known to be ascending and new (a snapshot's order): appended at the end. */
  static fromAscending(ids: readonly string[]): SortedIds {
    const sorted = new SortedIds();
    for (let start = 0; start < ids.length; start += chunkSizeMax / 2) {
      const chunk = ids.slice(start, start + chunkSizeMax / 2);
      for (let index = 1; index < chunk.length; index += 1)
        assert((chunk[index - 1] as string) < (chunk[index] as string), 'ids ascending');
      const last = sorted.chunks[sorted.chunks.length - 1];
      if (last !== undefined)
        assert((last[last.length - 1] as string) < (chunk[0] as string), 'chunks ascending');
      sorted.chunks.push(chunk);
      sorted.total += chunk.length;
    }
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

  /** Adds an id that is not here yet. */
  add(id: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([id]);
      this.total = 1;
      return;
    }
    const at = this.chunkOf(id);
    const chunk = this.chunks[at] as string[];
    const position = firstAbove(chunk, id);
    assert(position === 0 || chunk[position - 1] !== id, 'an id added twice');
    if (position === chunk.length) chunk.push(id);
    else chunk.splice(position, 0, id);
    this.total += 1;
    if (chunk.length > chunkSizeMax) this.chunks.splice(at + 1, 0, chunk.splice(chunkSizeMax / 2));
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

  /** Every id, ascending. (A loop: Array.prototype.flat took 23 ms for 100,000 ids here, inside
   * a snapshot's pause; this about 3.) */
  all(): string[] {
    const ids = new Array<string>(this.total);
    let at = 0;
    for (const chunk of this.chunks) for (const id of chunk) ids[at++] = id;
    return ids;
  }
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

  add(id: string, currency: string): void {
    let ids = this.byCurrency.get(currency);
    if (ids === undefined) {
      ids = new SortedIds();
      this.byCurrency.set(currency, ids);
    }
    ids.add(id);
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
