// One shard's side of the change feed: reads its durable log a page at a time (the shard client's
// readNewRecords: encoded records, decoded here off the shard's thread) and hands out its events
// after the cursor as ChangeEvents, moving the shard's balances (shard-balances.ts) as it goes.
// It holds at most two pages: the one being handed out and the one read next. A page keeps its
// records decoded but their events unbuilt: an event, its change event and its balances are made
// when taken, not when read, so they die young (cheap to collect) instead of a page's thousands
// living through a collection.

import { setTimeout as sleep } from 'node:timers/promises';
import { LedgerError, isLedgerError } from '@shardledger/ledger-core';
import {
  assert,
  readEventRecord,
  type EventRecordReader,
} from '@shardledger/ledger-core/internals';
import type { ShardClient } from '../shard/shard-client.js';
import type { ChangeEvent } from './change-types.js';
import { ShardBalances } from './shard-balances.js';
import { snapshotStart } from './snapshot-start.js';

/** Events `from` .. `to` - 1 of one record (indexes into it). */
interface Segment {
  readonly record: EventRecordReader;
  readonly from: number;
  readonly to: number;
}

/** What one read of the log gave: `count` events in sequence order, record by record (none:
 * caught up). Whole records are read, so pageSizeEvents or up to one record more. */
interface Page {
  readonly segments: readonly Segment[];
  readonly count: number;
}

/** Pause before reading again a shard whose worker is being replaced. */
const unavailablePauseMs = 50;

const emptyPage: Page = Object.freeze({ segments: [], count: 0 });

export class ShardChangeReader {
  readonly shard: number;
  readonly #client: ShardClient;
  readonly #pageSizeEvents: number;
  readonly #balances = new ShardBalances();
  /** The events after this one are handed out; those up to it only move the balances (a feed
   * resumed from a cursor walks them from the newest snapshot before it, or from the first
   * event). */
  #after: number;
  /** Start at this engine time instead of after `#after` (ChangesOptions.from), once resolved. */
  readonly #from: bigint | undefined;
  readonly #onStart: ((after: number) => void) | undefined;
  /** The last sequence read (in the page in hand or the one read next). */
  #readThrough = 0;
  /** Whether the walk started: from the first event, or from a snapshot (snapshot-start.ts). */
  #started = false;
  /** The page being handed out, the segment and record index of its next event, and the events
   * taken from it. */
  #page: Page = emptyPage;
  #segment = 0;
  #index = 0;
  #taken = 0;
  /** The read of the next page, in flight or done. */
  #next: Promise<Page> | null = null;
  /** Events of the page read next, once read. */
  #nextEvents = 0;
  /** The last read found nothing new. */
  caughtUp = false;

  constructor(options: {
    shard: number;
    client: ShardClient;
    pageSizeEvents: number;
    after: number;
    from?: bigint | undefined;
    onStart?: (after: number) => void;
  }) {
    this.shard = options.shard;
    this.#client = options.client;
    this.#pageSizeEvents = options.pageSizeEvents;
    this.#after = options.after;
    this.#from = options.from;
    this.#onStart = options.onStart;
  }

  /** Events read from the log and not handed out yet (the rest of the page in hand and the page
   * read next): never more than two pages. */
  get heldEvents(): number {
    return this.#page.count - this.#taken + this.#nextEvents;
  }

  /** The next event past the cursor of the page in hand, or undefined when it is spent. */
  take(): ChangeEvent | undefined {
    const segments = this.#page.segments;
    while (this.#segment < segments.length) {
      const { record, to } = segments[this.#segment] as Segment;
      while (this.#index < to) {
        const event = record.event(this.#index);
        const sequence = record.first + this.#index;
        this.#index += 1;
        this.#taken += 1;
        const balances = this.#balances.apply(sequence, event);
        // `from` checked on each event too: a shard dir written before the log kept its times
        // in the index answers sequenceAt with 0.
        if (sequence > this.#after && (this.#from === undefined || event.timestamp >= this.#from))
          return { shard: this.shard, sequence, timestamp: event.timestamp, event, balances };
      }
      this.#segment += 1;
      const next = segments[this.#segment];
      if (next !== undefined) this.#index = next.from;
    }
    return undefined;
  }

  /** Makes the next page the one in hand (once the current one is spent) and starts reading the
   * one after it when it held events (read ahead, so the shard reads while the consumer works). */
  async turnPage(): Promise<void> {
    assert(this.#taken >= this.#page.count, 'a page is turned once spent');
    this.#next ??= this.#read();
    let page: Page;
    let unavailable = false;
    try {
      page = await this.#next;
    } catch (error) {
      // A shard whose worker is being replaced is read again after a pause (it is not caught
      // up: a feed that ends once caught up waits for it); anything else (a closed ledger, a bad
      // cursor) ends the feed.
      if (!isLedgerError(error, 'SHARD_UNAVAILABLE')) throw error;
      page = emptyPage;
      unavailable = true;
    } finally {
      this.#next = null;
      this.#nextEvents = 0;
    }
    this.#page = page;
    this.#segment = 0;
    this.#index = page.segments[0]?.from ?? 0;
    this.#taken = 0;
    this.caughtUp = page.count === 0 && !unavailable;
    if (unavailable) await sleep(unavailablePauseMs);
    if (!this.caughtUp) {
      this.#next = this.#read();
      this.#next.catch(() => undefined);
    }
  }

  /** Reads the events after the last read, whole records, up to the shard's last sequence. */
  async #read(): Promise<Page> {
    if (!this.#started) {
      // The last event before `from`: events at or after it are handed out.
      if (this.#from !== undefined && this.#from > 0n) {
        this.#after = await this.#client.sequenceAt(this.#from - 1n);
        this.#onStart?.(this.#after);
      }
      // A feed resumed past a snapshot walks the balances from it, not from the first event.
      const start = await snapshotStart(this.#client, this.#after);
      this.#started = true;
      if (start !== null) {
        this.#balances.seed(start.sequence, start.accounts);
        this.#readThrough = start.sequence;
      }
    }
    const from = this.#readThrough;
    const reply = await this.#client.readNewRecords(from, this.#pageSizeEvents);
    if (reply.lastSequence < this.#after)
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'after',
        problem: `shard ${this.shard} has ${reply.lastSequence} events, the cursor names ${this.#after}`,
      });
    if (reply.lastSequence <= from) return emptyPage;
    const segments: Segment[] = [];
    let count = 0;
    for (const bytes of reply.records) {
      const record = readEventRecord(bytes);
      const to = Math.min(record.count, reply.lastSequence - record.first + 1);
      const start = Math.max(0, from + 1 - record.first);
      if (start >= to) continue;
      assert(record.first + start === from + 1 + count, 'records follow one another');
      segments.push({ record, from: start, to });
      count += to - start;
    }
    // The records hold from + 1 to at least min(last, from + pageSizeEvents), in order.
    assert(
      count >= Math.min(reply.lastSequence - from, this.#pageSizeEvents),
      `shard ${this.shard} read without a gap`,
    );
    this.#readThrough = from + count;
    this.#nextEvents = count;
    return { segments, count };
  }
}
