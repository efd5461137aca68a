// The change feed (Ledger.changes): every committed event of every shard, in order within each
// shard, with the balances of its accounts after it, as an async iterator. It reads behind the
// writers from the shards' durable logs (shard-change-reader.ts), a page per shard at a time, so a
// slow or stalled consumer holds at most two pages per shard and never slows a write. Its cursor
// (change-cursor.ts) names, per shard, the last event handed out: a consumer that stores it with
// its own data in one transaction gets every event exactly once across restarts.

import { setTimeout as sleep } from 'node:timers/promises';
import { LedgerError, limits } from '@shardledger/ledger-core';
import type { ShardClient } from '../shard/shard-client.js';
import { formatChangeCursor, parseChangeCursor } from './change-cursor.js';
import type { ChangeEvent, ChangesOptions } from './change-types.js';
import { ShardChangeReader } from './shard-change-reader.js';

const pageSizeEventsDefault = 4_096;
/** A following feed that found every shard caught up looks again after a pause that doubles
 * from the first to the last of these while nothing new comes (a write sent in between cuts it
 * back to the first). */
const pollIntervalMs = 1;
const pollIntervalMaxMs = 50;

/** ChangesOptions.from, checked: an engine time (a bigint of at least 0), and not with `after`. */
function checkFrom(options: ChangesOptions): bigint | undefined {
  const { from, after } = options;
  if (from === undefined) return undefined;
  if (typeof from !== 'bigint' || from < 0n)
    throw new LedgerError('INVALID_ARGUMENT', {
      field: 'from',
      problem: 'an engine time: ns since the epoch, a bigint of at least 0',
    });
  if (after !== undefined && after !== null && after !== '')
    throw new LedgerError('INVALID_ARGUMENT', { field: 'from', problem: 'not with `after`' });
  return from;
}

const doneResult: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** Where the feed reads: the ledger's shard clients. */
export interface ChangeSource {
  readonly shards: number;
  shardClient(shard: number): ShardClient;
}

export class ChangeFeed implements AsyncIterableIterator<ChangeEvent, undefined> {
  readonly #source: ChangeSource;
  readonly #readers: ShardChangeReader[];
  readonly #follow: boolean;
  readonly #signal: AbortSignal | undefined;
  /** Per shard, the sequence of the last event handed out. */
  readonly #delivered: number[];
  /** The shard whose page is being handed out (pages of shards take turns). */
  #turn = 0;
  #ended = false;
  #failure: unknown = null;

  constructor(source: ChangeSource, options: ChangesOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new LedgerError('INVALID_ARGUMENT', { field: 'options', problem: 'an object' });
    const pageSizeEvents = options.pageSizeEvents ?? pageSizeEventsDefault;
    if (
      !Number.isSafeInteger(pageSizeEvents) ||
      pageSizeEvents < 1 ||
      pageSizeEvents > limits.pageSizeMax
    )
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'pageSizeEvents',
        problem: `an integer from 1 to ${limits.pageSizeMax}`,
      });
    const from = checkFrom(options);
    this.#source = source;
    this.#delivered = parseChangeCursor(options.after, source.shards);
    this.#follow = options.follow === true;
    this.#signal = options.signal;
    this.#readers = this.#delivered.map(
      (after, shard) =>
        new ShardChangeReader({
          shard,
          client: source.shardClient(shard),
          pageSizeEvents,
          after,
          from,
          // Where `from` put the shard: the cursor names it before any event is handed out.
          onStart: (start) => {
            this.#delivered[shard] = Math.max(this.#delivered[shard] as number, start);
          },
        }),
    );
  }

  /** Per shard, the last event handed out, as a string: pass it as `after` to resume. */
  get cursor(): string {
    return formatChangeCursor(this.#delivered);
  }

  /** Events read from the shards' logs and not handed out yet: at most two pages per shard (a
   * page is pageSizeEvents, or up to one log record more), however long the consumer stalls. */
  get heldEvents(): number {
    return this.#readers.reduce((sum, reader) => sum + reader.heldEvents, 0);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ChangeEvent, undefined>> {
    // The common case, an event of the page in hand, without an async function's cost.
    const reader = this.#readers[this.#turn] as ShardChangeReader;
    const event = this.#ended ? undefined : reader.take();
    if (event !== undefined && this.#signal?.aborted !== true) {
      this.#delivered[event.shard] = event.sequence;
      return Promise.resolve({ done: false, value: event });
    }
    return this.#nextSlow();
  }

  /** Ends the feed (a `break` out of for await calls it). */
  return(): Promise<IteratorResult<ChangeEvent, undefined>> {
    this.#ended = true;
    return Promise.resolve(doneResult);
  }

  async #nextSlow(): Promise<IteratorResult<ChangeEvent, undefined>> {
    if (this.#failure !== null) throw this.#failure;
    try {
      const event = await this.#nextEvent();
      if (event === undefined) {
        this.#ended = true;
        return doneResult;
      }
      this.#delivered[event.shard] = event.sequence;
      return { done: false, value: event };
    } catch (error) {
      this.#ended = true;
      this.#failure = error;
      throw error;
    }
  }

  /** The next event of any shard, pages taking turns; undefined once the feed ends. */
  async #nextEvent(): Promise<ChangeEvent | undefined> {
    let pauseMs = pollIntervalMs;
    let writes = this.#writesSeen();
    const shards = this.#readers.length;
    for (;;) {
      if (this.#ended || this.#signal?.aborted === true) return undefined;
      // A page in hand on any shard, starting with the one whose turn it is.
      for (let step = 0; step < shards; step += 1) {
        const reader = this.#readers[this.#turn] as ShardChangeReader;
        const event = reader.take();
        if (event !== undefined) return event;
        this.#turn = (this.#turn + 1) % shards;
      }
      // Every page spent: turn the pages of the shards that may have more (all of them while
      // following), then hand out from the first with events.
      const turning = this.#readers.filter((reader) => this.#follow || !reader.caughtUp);
      if (turning.length === 0) return undefined;
      await this.#whileNotAborted(Promise.all(turning.map((reader) => reader.turnPage())));
      if (turning.some((reader) => !reader.caughtUp)) {
        pauseMs = pollIntervalMs;
        continue;
      }
      if (!this.#follow) continue;
      // Following, and nothing new anywhere: pause before the next look.
      const seen = this.#writesSeen();
      if (seen !== writes) pauseMs = pollIntervalMs;
      writes = seen;
      await this.#whileNotAborted(sleep(pauseMs));
      pauseMs = Math.min(pauseMs * 2, pollIntervalMaxMs);
    }
  }

  /** Submit messages sent to the shards so far: when it moves, events are on their way. */
  #writesSeen(): number {
    let sent = 0;
    for (let shard = 0; shard < this.#readers.length; shard += 1)
      sent += this.#source.shardClient(shard).submitMessagesSent;
    return sent;
  }

  /** Waits for `work`, or for the signal to abort, whichever comes first. */
  async #whileNotAborted(work: Promise<unknown>): Promise<void> {
    const signal = this.#signal;
    if (signal === undefined) {
      await work;
      return;
    }
    // Once aborted, `work` goes on unawaited: its failure (a ledger closed meanwhile) is moot.
    work.catch(() => undefined);
    if (signal.aborted) return;
    let onAbort = (): void => undefined;
    const aborted = new Promise<void>((resolve) => {
      onAbort = () => resolve();
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([work, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}
