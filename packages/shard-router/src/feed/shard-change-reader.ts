// One shard's side of the change feed: reads its durable log a page at a time (the shard client's
// readNewRecords: encoded records, decoded here off the shard's thread) and hands out its events
// after the cursor as ChangeEvents, moving the shard's balances (shard-balances.ts) as it goes.
// It holds at most two pages: the one being handed out and the one read next. A change event and
// its balances are made when taken, not when read, so they die young (cheap to collect).

import { setTimeout as sleep } from 'node:timers/promises';
import { LedgerError, isLedgerError, type LedgerEvent } from '@shardledger/ledger-core';
import { assert, decodeEventRecord } from '@shardledger/ledger-core/internals';
import type { ShardClient } from '../shard/shard-client.js';
import type { ChangeEvent } from './change-types.js';
import { ShardBalances } from './shard-balances.js';

/** What one read of the log gave: the events `first` .. `first + events.length - 1` (none:
 * caught up). Whole records are kept, so pageSizeEvents or up to one record more. */
interface Page {
  readonly first: number;
  readonly events: readonly LedgerEvent[];
}

/** Pause before reading again a shard whose worker is being replaced. */
const unavailablePauseMs = 50;

const emptyPage: Page = Object.freeze({ first: 0, events: [] });

export class ShardChangeReader {
  readonly shard: number;
  readonly #client: ShardClient;
  readonly #pageSizeEvents: number;
  readonly #balances = new ShardBalances();
  /** The events after this one are handed out; those up to it only move the balances (a feed
   * resumed from a cursor replays the log before it for the balances). */
  readonly #after: number;
  /** The last sequence read (in the page in hand or the one read next). */
  #readThrough = 0;
  /** The page being handed out, and the index of its next event. */
  #page: Page = emptyPage;
  #index = 0;
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
  }) {
    this.shard = options.shard;
    this.#client = options.client;
    this.#pageSizeEvents = options.pageSizeEvents;
    this.#after = options.after;
  }

  /** Events read from the log and not handed out yet (the rest of the page in hand and the page
   * read next): never more than two pages. */
  get heldEvents(): number {
    return this.#page.events.length - this.#index + this.#nextEvents;
  }

  /** The next event past the cursor of the page in hand, or undefined when it is spent. */
  take(): ChangeEvent | undefined {
    const { first, events } = this.#page;
    while (this.#index < events.length) {
      const event = events[this.#index] as LedgerEvent;
      const sequence = first + this.#index;
      this.#index += 1;
      const balances = this.#balances.apply(sequence, event);
      if (sequence > this.#after)
        return { shard: this.shard, sequence, timestamp: event.timestamp, event, balances };
    }
    return undefined;
  }

  /** Makes the next page the one in hand (once the current one is spent) and starts reading the
   * one after it when it held events (read ahead, so the shard reads while the consumer works). */
  async turnPage(): Promise<void> {
    assert(this.#index >= this.#page.events.length, 'a page is turned once spent');
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
    this.#index = 0;
    this.caughtUp = page.events.length === 0 && !unavailable;
    if (unavailable) await sleep(unavailablePauseMs);
    if (!this.caughtUp) {
      this.#next = this.#read();
      this.#next.catch(() => undefined);
    }
  }

  /** Reads the events after the last read, whole records, up to the shard's last sequence. */
  async #read(): Promise<Page> {
    const from = this.#readThrough;
    const reply = await this.#client.readNewRecords(from, this.#pageSizeEvents);
    if (reply.lastSequence < this.#after)
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'after',
        problem: `shard ${this.shard} has ${reply.lastSequence} events, the cursor names ${this.#after}`,
      });
    if (reply.lastSequence <= from) return emptyPage;
    const events: LedgerEvent[] = [];
    for (const bytes of reply.records) {
      const record = decodeEventRecord(bytes);
      const count = Math.min(record.events.length, reply.lastSequence - record.first + 1);
      const start = Math.max(0, from + 1 - record.first);
      if (start < count)
        assert(record.first + start === from + 1 + events.length, 'records follow one another');
      for (let index = start; index < count; index += 1)
        events.push(record.events[index] as LedgerEvent);
    }
    // The records hold from + 1 to at least min(last, from + pageSizeEvents), in order.
    assert(
      events.length >= Math.min(reply.lastSequence - from, this.#pageSizeEvents),
      `shard ${this.shard} read without a gap`,
    );
    this.#readThrough = from + events.length;
    this.#nextEvents = events.length;
    return { first: from + 1, events };
  }
}
