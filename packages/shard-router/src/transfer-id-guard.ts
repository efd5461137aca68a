// Transfer ids are unique across the whole ledger, not only per shard. A shard checks the ids of
// the transfers it records, and a transfer is recorded on the shards of its two accounts (its home
// shards), so an id reused between accounts on other shards would reach shards that never saw it.
// The router closes that gap here, at almost no cost for time-ordered ids:
// - It knows an id at or above every transfer id the ledger holds: the greatest one the shards
//   report on open (each keeps it for its own fast path), then every id it routes. An id above it
//   (a fast id) is new on every shard and becomes the new greatest. That is one string comparison
//   per transfer.
// - Any other id (a slow id: a retry, an id out of order, or any id once a shard has stored a
//   non-ASCII one) is looked up, before anything of its segment is sent, on the shards that are
//   not its home (Ledger.findElsewhere). Found live there, it gets the
//   result its home shards would give had they seen it.
// A lookup only sees what reached the shard before it, so a slow id first waits until the work that
// may be writing it has queued its messages: each segment of routed transfers is registered from
// routing until its sends settle, and a slow id waits for the segments registered before its own
// whose fast range or slow ids hold it to have queued their writes (or ended). Its lookups then go
// behind those writes (ShardClient.lookupTransfersBehindWrites); a shard runs requests in arrival
// order. With no such segment, none of the writes still queued can hold the id, and the lookups
// go ahead of them (ShardClient.lookupTransfersAhead). A segment never waits for a later one, so
// no two segments wait for each other.

import { assert } from '@shardledger/ledger-core';

/** One run of transfers routed and sent together (a call, or part of one). */
export class IdSegment {
  /** The fast ids admitted into this segment lie in (low, high]. */
  readonly low: string;
  high: string;
  /** The slow ids of this segment (null when none): they are checked before they are sent. */
  slow: Set<string> | null = null;
  /** Resolves once the segment's writes are queued to their shards (markQueued), or it ended. */
  readonly queued: Promise<void>;
  #resolveQueued!: () => void;

  constructor(low: string) {
    this.low = low;
    this.high = low;
    this.queued = new Promise((resolve) => {
      this.#resolveQueued = resolve;
    });
  }

  /** The segment's messages are queued on their shards' clients: a lookup sent behind them sees
   * their writes. */
  markQueued(): void {
    this.#resolveQueued();
  }

  /** Whether this segment may be writing a transfer with `id`. */
  mayWrite(id: string): boolean {
    return (
      (this.low !== this.high && this.low < id && id <= this.high) ||
      (this.slow !== null && this.slow.has(id))
    );
  }
}

export class TransferIdGuard {
  /** At or above every transfer id stored or in flight (in JavaScript string order). */
  #max: string;
  /** False once a shard reported no greatest id (it stored a non-ASCII id, whose byte order in
   * LMDB differs from string order): then every id is slow. */
  readonly #ordered: boolean;
  /** Segments routed and not yet settled, in the order they began. */
  readonly #inFlight = new Set<IdSegment>();

  /** `greatestIds`: each shard's greatest transfer id (EngineInfo.transferIdMax), null where a
   * shard has none it can vouch for. */
  constructor(greatestIds: readonly (string | null)[]) {
    this.#ordered = greatestIds.every((id) => id !== null);
    this.#max = greatestIds.reduce<string>((max, id) => (id !== null && id > max ? id : max), '');
  }

  /** Segments in flight (tests: every segment settles). */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  begin(): IdSegment {
    const segment = new IdSegment(this.#max);
    this.#inFlight.add(segment);
    return segment;
  }

  /** True when `id` is above every id the ledger holds or has in flight (a fast id): it becomes
   * the greatest. False for a slow id; the caller then marks it slow (markSlow) or sends it
   * nowhere. */
  admit(segment: IdSegment, id: string): boolean {
    if (!this.#ordered || id <= this.#max) return false;
    this.advance(segment, id);
    return true;
  }

  /** admit, or else markSlow: true when `id` is slow (to be looked up before it is sent). */
  take(segment: IdSegment, id: string): boolean {
    if (this.admit(segment, id)) return false;
    this.markSlow(segment, id);
    return true;
  }

  /** The greatest id so far, for a caller that compares a run of ids itself (the router's hot
   * loop, where a call per id costs more than the comparison) and then advances to the greatest
   * it admitted; null when no id can be admitted (every id is slow). */
  get greatest(): string | null {
    return this.#ordered ? this.#max : null;
  }

  /** Takes `id`, greater than `greatest` (checked), as the greatest: the ids the caller compared
   * against `greatest` and found above it are admitted into `segment`, the newest one. */
  advance(segment: IdSegment, id: string): void {
    assert(this.#ordered && id > this.#max, 'an id advanced to is above every one before');
    assert(segment.high === this.#max, 'fast ids are admitted into the newest segment');
    this.#max = id;
    segment.high = id;
  }

  markSlow(segment: IdSegment, id: string): void {
    (segment.slow ??= new Set()).add(id);
  }

  /** Resolves once every segment begun before `segment` that may be writing one of its slow ids
   * has queued its writes (or ended); to true when there was any such segment (a lookup must then
   * go behind the writes queued on its shard), false when none (it may go ahead of them). */
  async writesQueuedBefore(segment: IdSegment): Promise<boolean> {
    const slow = segment.slow;
    if (slow === null) return false;
    const waits: Promise<void>[] = [];
    for (const other of this.#inFlight) {
      if (other === segment) break;
      for (const id of slow) {
        if (other.mayWrite(id)) {
          waits.push(other.queued);
          break;
        }
      }
    }
    await Promise.all(waits);
    return waits.length > 0;
  }

  end(segment: IdSegment): void {
    assert(this.#inFlight.delete(segment), 'a segment ends once');
    segment.markQueued();
  }
}
