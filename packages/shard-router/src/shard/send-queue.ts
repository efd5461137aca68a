// The coalescing queue of one shard's submits. Concurrent submit() calls are joined into messages
// of up to joinedMessageMax commands (a larger call is a message of its own), and up to inFlightMessagesMax messages are in flight, so
// the worker always has the next batch ready. Each call's commands stay contiguous and in call
// order; the results of a message are handed back to its calls as slices of one result batch.

import { LedgerError, limits } from '@shardledger/ledger-core';
import {
  ResultBatchView,
  assert,
  type CommandBatchBuilder,
} from '@shardledger/ledger-core/internals';
import { failpoint, failpointNames } from '../failpoints.js';
import type { WorkerLifecycle } from './worker-lifecycle.js';

/** One submit's results: `count` results of a message's result batch from `start` on. */
export interface SubmitResults {
  readonly view: ResultBatchView;
  readonly start: number;
  readonly count: number;
}

/** A submit() call waiting in the queue or in flight. */
interface QueuedSubmit {
  /** Dropped (null) once encoded into a message: the caller's commands then die young instead
   * of surviving, and being copied by, the scavenges of the round trip. */
  batch: CommandBatchBuilder | null;
  readonly count: number;
  readonly resolve: (results: SubmitResults) => void;
  readonly reject: (error: unknown) => void;
}

/** Submits are joined into messages of at most this many commands (a larger submit goes alone).
 * A message is one group commit, answered as a whole: with smaller ones the shard commits one
 * while it applies the next and while this thread answers the callers of the one before, instead
 * of every stage waiting for one large message (measured with 512 callers of one transfer each:
 * about 10% more transfers/s and a third off the p99 per call). */
export const joinedMessageMax = 256;

export class SendQueue {
  readonly #worker: WorkerLifecycle;
  readonly #inFlightMessagesMax: number;
  readonly #queueDepthMax: number;
  /** Whether posting is held (ShardClient.holdSends): the queue then keeps what it has. */
  readonly #held: () => boolean;
  /** FIFO of submits not yet sent; `#head` avoids O(n) shifts. */
  #queue: QueuedSubmit[] = [];
  #head = 0;
  /** Submits ever taken off the queue (sent, or failed with the shard): a read waiting for the
   * first n to be taken (whenTaken) waits in #takenWaiters. */
  #taken = 0;
  #takenWaiters: { readonly target: number; readonly resolve: () => void }[] = [];
  /** Commands queued or in flight (bounded by queueDepthMax). */
  #outstandingCommands = 0;
  #inFlightMessages = 0;
  #flushScheduled = false;
  #messagesSent = 0;

  constructor(
    worker: WorkerLifecycle,
    limitsOf: { inFlightMessagesMax: number; queueDepthMax: number },
    held: () => boolean,
  ) {
    this.#worker = worker;
    this.#inFlightMessagesMax = limitsOf.inFlightMessagesMax;
    this.#queueDepthMax = limitsOf.queueDepthMax;
    this.#held = held;
    assert(this.#inFlightMessagesMax >= 1, 'inFlightMessagesMax >= 1');
    assert(this.#queueDepthMax >= limits.batchSizeMax, 'queueDepthMax holds one full batch');
  }

  /** Commands waiting or in flight. */
  get outstandingCommands(): number {
    return this.#outstandingCommands;
  }

  /** Submit messages posted so far (calls / messages = the coalescing factor). */
  get messagesSent(): number {
    return this.#messagesSent;
  }

  get isEmpty(): boolean {
    return this.#head === this.#queue.length;
  }

  /** Queues `batch` (the queue's from here on) to be sent with the calls queued around it. */
  enqueue(batch: CommandBatchBuilder): Promise<SubmitResults> {
    const count = batch.count;
    if (count > limits.batchSizeMax)
      return Promise.reject(new LedgerError('BATCH_TOO_LARGE', { size: count }));
    if (count === 0) return Promise.resolve({ view: ResultBatchView.empty, start: 0, count: 0 });
    if (this.#outstandingCommands + count > this.#queueDepthMax) {
      return Promise.reject(
        new LedgerError('QUEUE_FULL', {
          shard: this.#worker.shard,
          queueDepthMax: this.#queueDepthMax,
        }),
      );
    }
    this.#outstandingCommands += count;
    return new Promise((resolve, reject) => {
      this.#queue.push({ batch, count, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once every submit queued before this call has been sent (or failed). */
  async whenTaken(): Promise<void> {
    const target = this.#taken + (this.#queue.length - this.#head);
    if (this.#taken < target)
      await new Promise<void>((resolve) => this.#takenWaiters.push({ target, resolve }));
  }

  /** Sends queued submits, as many messages as the in-flight bound allows. */
  flush(): void {
    this.#flushScheduled = false;
    if (this.#held()) return; // Sent when the sends are released.
    if (!this.#worker.isReady) return; // Sent once ready.
    while (this.#inFlightMessages < this.#inFlightMessagesMax && this.#head < this.#queue.length) {
      const callers: QueuedSubmit[] = [];
      let count = 0;
      while (this.#head < this.#queue.length) {
        const next = this.#queue[this.#head] as QueuedSubmit;
        if (count > 0 && count + next.count > joinedMessageMax) break;
        callers.push(next);
        count += next.count;
        this.#head++;
        this.#taken += 1;
      }
      assert(callers.length > 0, 'every queued call fits one message');
      this.#post(callers, count);
    }
    this.#wakeTakenWaiters();
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1_024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  #post(callers: readonly QueuedSubmit[], count: number): void {
    // The callers' batches are the queue's: the first one takes the others' commands.
    const batch = (callers[0] as QueuedSubmit).batch as CommandBatchBuilder;
    for (let index = 1; index < callers.length; index += 1)
      batch.append((callers[index] as QueuedSubmit).batch as CommandBatchBuilder);
    assert(batch.count === count, "a message holds its callers' commands");
    try {
      failpoint(failpointNames.clientSubmitBeforePost);
    } catch (error) {
      this.#outstandingCommands -= count;
      for (const caller of callers) caller.reject(error);
      return;
    }
    this.#inFlightMessages++;
    this.#messagesSent++;
    const encoded = batch.encode();
    for (const caller of callers) caller.batch = null;
    this.#worker.post('submit', [encoded], {
      answer: (results) => this.#settle(callers, count, results, undefined),
      fail: (error) => this.#settle(callers, count, null, error),
    });
  }

  /** Hands a message's results, or its failure, to its callers. One message is one group
   * commit: an operational error fails the whole message. */
  #settle(
    callers: readonly QueuedSubmit[],
    count: number,
    results: Uint8Array | null,
    error: unknown,
  ): void {
    this.#inFlightMessages--;
    this.#outstandingCommands -= count;
    if (results === null) {
      for (const caller of callers) caller.reject(error);
    } else {
      const view = new ResultBatchView(results);
      let start = 0;
      for (const caller of callers) {
        caller.resolve({ view, start, count: caller.count });
        start += caller.count;
      }
      assert(start === view.count, 'one result per command');
    }
    this.flush();
  }

  /** The shard failed for good: every queued call fails with `error`. */
  failQueued(error: LedgerError): void {
    for (let index = this.#head; index < this.#queue.length; index++) {
      const caller = this.#queue[index] as QueuedSubmit;
      this.#outstandingCommands -= caller.count;
      this.#taken += 1;
      caller.reject(error);
    }
    this.#queue = [];
    this.#head = 0;
    this.#wakeTakenWaiters();
  }

  #wakeTakenWaiters(): void {
    if (this.#takenWaiters.length === 0) return;
    const waiting: { readonly target: number; readonly resolve: () => void }[] = [];
    for (const waiter of this.#takenWaiters) {
      if (this.#taken >= waiter.target) waiter.resolve();
      else waiting.push(waiter);
    }
    this.#takenWaiters = waiting;
  }
}
