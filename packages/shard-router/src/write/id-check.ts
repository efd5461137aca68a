// Transfer ids are unique across the whole ledger, not only per shard. A shard checks the ids of
// the transfers it records, and a transfer is recorded on the shards of its two accounts (its home
// shards), so an id reused between accounts on other shards would reach shards that never saw it.
// The router closes that gap here, at almost no cost for time-ordered ids:
// - It knows an id at or above every transfer id the ledger stores: the greatest one the shards
//   report on open (each keeps it for its own fast path), then every id it routes. An id above it
//   (a fast id) is new on every shard and becomes the new greatest. That is one string comparison
//   per transfer.
// - Any other id (a slow id: a random id, a retry, an id out of order, or any id once a shard
//   has stored a non-ASCII one) is first asked of the router's filter of every transfer id: the
//   shards' own filters as they stood on open, plus every id routed since. An id the filter has
//   certainly never seen (a new random id, nearly always) is new on every shard: no lookup. Any
//   other is looked up, before anything of its segment is sent, on the shards that are not its
//   home (findElsewhere). Found live there, it gets the result its home shards would give had
//   they seen it (refuseTakenIds).
// A lookup only sees what reached the shard before it, so a slow id first waits until the work that
// may be writing it has queued its messages: each segment of routed transfers is registered from
// routing until its sends settle, and a slow id waits for the segments registered before its own
// whose fast range or slow ids include it to have queued their writes (or ended). Its lookups then
// go behind those writes (ShardClient.lookupTransfersBehindWrites); a shard runs requests in
// arrival order. With no such segment, none of the writes still queued can carry the id, and the
// lookups go ahead of them (ShardClient.lookupTransfersAhead). A segment never waits for a later
// one, so no two segments wait for each other.
// Every write call runs inside a segment (withIdSegment): createTransfers one or more, an atomic
// group and a post or void call one each.

import {
  type CommandStatus,
  type TransferRecord,
  type TransferSpec,
} from '@shardledger/ledger-core';
import {
  assert,
  IdFilter,
  sameTransfer,
  type IdFilterSnapshot,
} from '@shardledger/ledger-core/internals';
import type { RouterParts } from '../router-parts.js';
import { ShardBuckets } from '../shard-buckets.js';

/** One run of transfers routed and sent together (a call, or part of one). */
export class IdSegment {
  /** The fast ids admitted into this segment lie in (low, high]. */
  readonly low: string;
  high: string;
  /** The slow ids of this segment, in the order marked (markSlow). */
  readonly #slow: string[] = [];
  /** The first #slowIndexed of them as a set, made when another segment first asks (mayWrite),
   * which is rare: only a slow id that the guard's filter may have seen is asked about. */
  #slowSet: Set<string> | null = null;
  #slowIndexed = 0;
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

  /** Notes a slow id of this segment (TransferIdGuard.markSlow). */
  markSlow(id: string): void {
    this.#slow.push(id);
  }

  /** Whether this segment may be writing a transfer with `id`. */
  mayWrite(id: string): boolean {
    if (this.low !== this.high && this.low < id && id <= this.high) return true;
    const slow = this.#slow;
    if (slow.length === 0) return false;
    const set = (this.#slowSet ??= new Set());
    for (; this.#slowIndexed < slow.length; this.#slowIndexed += 1)
      set.add(slow[this.#slowIndexed] as string);
    return set.has(id);
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
  /** Every transfer id the ledger may hold: the shards' filters on open, and each id routed
   * since (fast or slow), noted when it is routed, before anything of its segment is sent. */
  readonly #seen: IdFilter;

  /** `greatestIds`: each shard's greatest transfer id (EngineInfo.transferIdMax), null where a
   * shard has none it can vouch for. `stored`: each shard's filter of the transfer ids it knows
   * (ShardEngine.transferIdFilter), taken once no write can reach it but through this guard. */
  constructor(greatestIds: readonly (string | null)[], stored: readonly IdFilterSnapshot[]) {
    this.#ordered = greatestIds.every((id) => id !== null);
    this.#max = greatestIds.reduce<string>((max, id) => (id !== null && id > max ? id : max), '');
    this.#seen = new IdFilter(0, stored);
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

  /** True when `id` is above every id the ledger stores or has in flight (a fast id): it becomes
   * the greatest. False for a slow id; the caller then marks it slow (markSlow) or sends it
   * nowhere. */
  admit(segment: IdSegment, id: string): boolean {
    if (!this.#ordered || id <= this.#max) return false;
    this.advance(segment, id);
    this.#seen.add(id);
    return true;
  }

  /** admit, or else markSlow: true when `id` must be looked up before it is sent (a slow id the
   * filter may have seen). */
  take(segment: IdSegment, id: string): boolean {
    return !this.admit(segment, id) && this.takeSlow(segment, id);
  }

  /** Marks a slow id of `segment` and notes it as routed; true when it must be looked up before
   * it is sent (the filter may have seen it). */
  takeSlow(segment: IdSegment, id: string): boolean {
    this.markSlow(segment, id);
    return !this.firstSeen(id);
  }

  /** Notes a fast id the caller compared itself (the router's hot loop, before advance). */
  noteFast(id: string): void {
    this.#seen.add(id);
  }

  /** Notes a slow id as routed; true when no shard held it on open and no id routed since was
   * it (then it is new on every shard, and nothing in flight can be writing it). */
  firstSeen(id: string): boolean {
    const seen = this.#seen.mayHave(id);
    this.#seen.add(id);
    return !seen;
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
    segment.markSlow(id);
  }

  /** Resolves once every segment begun before `segment` that may be writing one of `ids` (slow
   * ids of `segment` to be looked up) has queued its writes (or ended); to true when there was
   * any such segment (a lookup must then go behind the writes queued on its shard), false when
   * none (it may go ahead of them). */
  async writesQueuedBefore(segment: IdSegment, ids: readonly string[]): Promise<boolean> {
    if (ids.length === 0) return false;
    const waits: Promise<void>[] = [];
    for (const other of this.#inFlight) {
      if (other === segment) break;
      for (const id of ids) {
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

/** Runs `send` inside a new segment of `guard`, ended however `send` ends; with no guard (one
 * shard, or transferIdScope 'shard'), runs it with no segment. */
export async function withIdSegment<T>(
  guard: TransferIdGuard | null,
  send: (segment: IdSegment | null) => Promise<T>,
): Promise<T> {
  if (guard === null) return send(null);
  const segment = guard.begin();
  try {
    return await send(segment);
  } finally {
    guard.end(segment);
  }
}

/** A transfer id and its home shards: the shards its transfer is recorded on, which check the
 * id themselves. A slow id is looked up on the other shards (findElsewhere). */
export interface SlowId {
  readonly id: string;
  readonly debitShard: number;
  readonly creditShard: number;
}

/** A write refuseTakenIds may refuse: its input index, id, home shards, whether its id is slow,
 * and its spec (null for a pending transfer's resolution, which one found elsewhere never
 * matches: its pending transfer lives on its home shard). */
export interface CheckedTransfer extends SlowId {
  readonly index: number;
  readonly spec: TransferSpec | null;
  readonly slow: boolean;
}

/** For each of `slowIds`, the first live record of its id on a shard that is not its home (the
 * lowest such shard), or undefined. Each shard is asked only for the ids it is not home to: a
 * home shard checks the id itself when the transfer reaches it. Waits first for the segments
 * that may be writing those ids to queue their writes, and looks up behind them; with none,
 * ahead of every write in flight (none can carry them). */
export async function findElsewhere(
  parts: RouterParts,
  segment: IdSegment,
  slowIds: readonly SlowId[],
): Promise<(TransferRecord | undefined)[]> {
  if (slowIds.length === 0) return [];
  const guard = parts.transferIds as TransferIdGuard;
  const behind = await guard.writesQueuedBefore(
    segment,
    slowIds.map((entry) => entry.id),
  );
  const shards = parts.clients.length;
  // Each (id, shard) pair asked has its own place in the answers: shard-major within each id.
  const buckets = new ShardBuckets<string>();
  slowIds.forEach((entry, position) => {
    for (let shard = 0; shard < shards; shard += 1) {
      if (shard !== entry.debitShard && shard !== entry.creditShard)
        buckets.add(shard, entry.id, position * shards + shard);
    }
  });
  const answers = await buckets.scatter(
    new Array<TransferRecord | undefined>(slowIds.length * shards).fill(undefined),
    (shard, ids) => {
      const client = parts.clients[shard];
      assert(client !== undefined, 'a shard asked has a client');
      return behind ? client.lookupTransfersBehindWrites(ids) : client.lookupTransfersAhead(ids);
    },
  );
  return slowIds.map((_, position) => {
    for (let shard = 0; shard < shards; shard += 1) {
      const record = answers[position * shards + shard];
      // A released saga side frees its id, as it does on its own shard (decide.ts liveRecord).
      if (record !== undefined && record.state !== 'released') return record;
    }
    return undefined;
  });
}

/** Gives each slow transfer of `checked` whose id is live on a shard outside its home shards the
 * status its home would give (exists, exists_with_different_fields, or transfer_in_flight while
 * that transfer's saga runs), so that it is not sent. A record that `ownRecord` says is the
 * transfer's own (recorded outside its home by design) is left to its home to answer. */
export async function refuseTakenIds(
  parts: RouterParts,
  segment: IdSegment,
  checked: readonly CheckedTransfer[],
  statuses: (CommandStatus | undefined)[],
  ownRecord?: (entry: CheckedTransfer, record: TransferRecord) => boolean,
): Promise<void> {
  const slow = checked.filter((entry) => entry.slow);
  const found = await findElsewhere(parts, segment, slow);
  slow.forEach((entry, position) => {
    const record = found[position];
    if (record === undefined || statuses[entry.index] !== undefined) return;
    if (ownRecord?.(entry, record) === true) return;
    const same = entry.spec !== null && sameTransfer(record, entry.spec);
    statuses[entry.index] =
      record.state === 'reserved'
        ? 'transfer_in_flight'
        : same
          ? 'exists'
          : 'exists_with_different_fields';
  });
}
