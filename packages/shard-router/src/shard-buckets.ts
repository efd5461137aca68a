/**
 * Group by shard, scatter the answers back: the one way the router splits a caller's list into a
 * message per shard and puts each shard's answers back at the caller's positions.
 */
export class ShardBuckets<T> {
  readonly #buckets = new Map<number, { items: T[]; positions: number[] }>();

  /** Puts `item`, found at `position` in the caller's list, into the bucket of `shard`. */
  add(shard: number, item: T, position: number): void {
    let bucket = this.#buckets.get(shard);
    if (bucket === undefined) this.#buckets.set(shard, (bucket = { items: [], positions: [] }));
    bucket.items.push(item);
    bucket.positions.push(position);
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** The shards that have items, in the order they were first added. */
  shards(): number[] {
    return [...this.#buckets.keys()];
  }

  /**
   * Sends each bucket to its shard, all at once, and writes answer `i` of a shard to the caller's
   * position of that shard's item `i` in `into`. A shard must answer once per item.
   */
  async scatter<R>(
    into: R[],
    send: (shard: number, items: T[]) => Promise<readonly R[]>,
  ): Promise<R[]> {
    await Promise.all(
      [...this.#buckets].map(async ([shard, bucket]) => {
        const answers = await send(shard, bucket.items);
        if (answers.length !== bucket.items.length)
          throw new Error(
            `shard ${shard} answered ${answers.length} items for ${bucket.items.length}`,
          );
        bucket.positions.forEach((position, index) => {
          into[position] = answers[index] as R;
        });
      }),
    );
    return into;
  }
}
