// The loop that keeps a read model up to its ledger. On the caller's thread it reads each shard's
// durable log records in batches (the shard client's readNewRecords) and ships them, undecoded,
// to the projector worker (projector-worker.ts), which decodes them and applies them to the
// SQLite file in one transaction per batch (projector.ts). It polls fast while writes are under
// way and backs off while the ledger is quiet.

import { setTimeout as sleep } from 'node:timers/promises';
import { isLedgerError } from '@shardledger/ledger-core';
import type { Ledger } from '../ledger.js';
import type { ProjectionFiles } from './projection-files.js';
import type { Watermark } from './projector.js';
import type { ProjectorClient } from './projector-client.js';
import type { RecordBatch } from './projector-protocol.js';
import { watermarksOf } from './queries.js';
import type { ReadModelDb } from './read-model-db.js';
import type { ReadModelSettings } from './read-model-options.js';

/** Batches of one shard shipped to the worker and not yet committed. More than one, so that the
 * next batch is read while the worker applies the previous one; sixteen, so that a projector
 * behind finds several waiting and applies up to twelve in one transaction (projector-worker.ts):
 * a transaction writes each page it changed once, and the entries' account index is changed all
 * over, so fewer, bigger transactions write fewer pages per event. Catching up on 1,017,370
 * events of random-id transfers on the 2-core dev machine, two interleaved pairs: 44,300 and
 * 44,900 events/s with sixteen, 36,500 and 38,400 with six (12% less projector CPU per event had
 * been measured at six than at two). The records in flight are encoded, about 100 bytes per
 * event: some 13 MB per shard at most. */
const batchesInFlightPerShardMax = 16;
/** Pause between polls while no command is in flight to any shard and none was sent since the
 * last poll: only a shard's own timers (pending transfers expiring) can add events then. */
const pollIntervalQuietMs = 1_000;

/** Per shard, the watermark stored in the file (sequence 0 for a shard it has none of). */
function marksOf(db: ReadModelDb, shards: number): Watermark[] {
  const stored = new Map(watermarksOf(db).map((mark) => [mark.shard, mark]));
  return Array.from(
    { length: shards },
    (_, shard) => stored.get(shard) ?? { shard, sequence: 0, timestamp: 0n },
  );
}

/** Follows the shards' logs into one read-model file at a time: started and stopped by the
 * ReadModel, switched to other files by attach while stopped. A failure stops it for good. */
export class ProjectionLoop {
  readonly #ledger: Ledger;
  readonly #settings: ReadModelSettings;
  #projector: ProjectorClient;
  /** Per shard, the last committed event. */
  #marks: Watermark[];
  /** Per shard, the sequence of the last event sent to the worker (ahead of #marks by the
   * batches in flight). */
  #sent: number[];
  /** Per shard, the batches sent to the worker and not committed yet (settled when they are),
   * oldest first. */
  #inFlight: Promise<void>[][];
  /** The loop runs: the caller asked to follow, or a waitFor needs it. */
  #following = false;
  /** A waitFor asks for a read of the shards at once, whatever the quiet-ledger pace. */
  #pollNow = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #progress = new Set<() => void>();
  #failure: unknown = null;

  constructor(ledger: Ledger, settings: ReadModelSettings, files: ProjectionFiles) {
    this.#ledger = ledger;
    this.#settings = settings;
    this.#projector = files.projector;
    this.#marks = marksOf(files.db, ledger.shards);
    this.#sent = this.#marks.map((mark) => mark.sequence);
    this.#inFlight = this.#marks.map(() => []);
  }

  /** Switches to other files, projecting on from their stored watermarks; called while the loop
   * is stopped. */
  attach(files: ProjectionFiles): void {
    this.#projector = files.projector;
    this.#marks = marksOf(files.db, this.#ledger.shards);
    this.#sent = this.#marks.map((mark) => mark.sequence);
    this.#inFlight = this.#marks.map(() => []);
  }

  /** Per shard, the last committed event (the loop's own array: copy it to hand it out). */
  get marks(): readonly Watermark[] {
    return this.#marks;
  }

  /** Why the projection stopped for good (a closed ledger, a failed batch); null while it can go
   * on. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Starts the loop unless it runs or the projection failed. */
  start(): void {
    if (this.#following || this.#failure !== null) return;
    this.#following = true;
    this.#loop = this.#run();
  }

  /** Stops the loop; resolves once the batches in flight (if any) are settled. */
  async stop(): Promise<void> {
    this.#following = false;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    await Promise.allSettled(this.#inFlight.flat());
  }

  /** Makes the loop read the shards at once, cutting its pause short. */
  pollNow(): void {
    this.#pollNow = true;
    this.#wake?.();
  }

  /** Resolves when a batch commits or the projection stops, or after `ms`. */
  progress(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#progress.add(done);
    });
  }

  async #run(): Promise<void> {
    const { pollIntervalMs, pollIntervalMaxMs } = this.#settings;
    let idlePolls = 0;
    let writes = this.#writesSeen();
    let busy = true;
    let lastReadMs = 0;
    while (this.#following) {
      if (this.#inFlight.every((batches) => batches.length >= batchesInFlightPerShardMax)) {
        // Every shard has its batches in flight: wait for one to commit before reading more.
        await this.#idle(null);
        continue;
      }
      // Writes under way (a submit sent since the last look, commands in flight at either look):
      // poll at the fast pace. Otherwise, once the backoff has reached pollIntervalMaxMs, read the
      // shards only every pollIntervalQuietMs (only a shard's own timers, expiring pending
      // transfers, add events then), and look at the submit counters in between, which is free.
      const seen = this.#writesSeen();
      const busyNow = !this.#noCommandsInFlight();
      if (seen !== writes || busy || busyNow) idlePolls = 0;
      writes = seen;
      busy = busyNow;
      const backoffMs = Math.min(pollIntervalMaxMs, pollIntervalMs * 2 ** Math.min(idlePolls, 16));
      if (
        idlePolls > 0 &&
        backoffMs === pollIntervalMaxMs &&
        !this.#pollNow &&
        performance.now() - lastReadMs < pollIntervalQuietMs
      ) {
        await this.#idle(pollIntervalMaxMs);
        continue;
      }
      this.#pollNow = false;
      lastReadMs = performance.now();
      let read: number;
      try {
        read = await this.#readAndShip();
      } catch (error) {
        if (isLedgerError(error, 'SHARD_UNAVAILABLE')) {
          await sleep(pollIntervalMs, undefined, { ref: false });
          continue;
        }
        // Anything else (a closed ledger) stops the projection; waiters and later calls see it.
        this.#stop(error);
        return;
      }
      if (!this.#following) return;
      if (read > 0) {
        idlePolls = 0;
        continue;
      }
      // Nothing new: back off, doubling the pause up to pollIntervalMaxMs. waitFor and pause cut
      // the pause short.
      await this.#idle(backoffMs);
      idlePolls += 1;
    }
  }

  /** Submit messages sent to the shards so far: when it moves, events are on their way. */
  #writesSeen(): number {
    let sent = 0;
    for (let shard = 0; shard < this.#ledger.shards; shard += 1)
      sent += this.#ledger.shardClient(shard).submitMessagesSent;
    return sent;
  }

  #noCommandsInFlight(): boolean {
    for (let shard = 0; shard < this.#ledger.shards; shard += 1) {
      if (this.#ledger.shardClient(shard).outstandingCommands > 0) return false;
    }
    return true;
  }

  /** Waits for `ms` (null: until a batch commits), a wake-up or a commit, whichever comes first. */
  #idle(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      // Unref'd: a model that only follows the logs does not keep the process alive (a waitFor
      // holds it with a timer of its own, and a batch in flight with its worker).
      const timer = ms === null ? undefined : setTimeout(done, ms).unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
      if (ms === null) this.#progress.add(done);
    }).finally(() => {
      this.#wake = null;
    });
  }

  /** Reads the next batch of every shard with room in flight and ships each to the worker.
   * Returns the number of events shipped. */
  async #readAndShip(): Promise<number> {
    const limit = this.#settings.batchSizeEvents;
    const shards = this.#marks
      .map((mark) => mark.shard)
      .filter(
        (shard) => (this.#inFlight[shard] as Promise<void>[]).length < batchesInFlightPerShardMax,
      );
    // A closed ledger's shard clients reject with LEDGER_CLOSED, which stops the loop.
    const replies = await Promise.all(
      shards.map((shard) =>
        this.#ledger.shardClient(shard).readNewRecords(this.#sent[shard] as number, limit),
      ),
    );
    let read = 0;
    for (const [index, reply] of replies.entries()) {
      const shard = shards[index] as number;
      const afterSequence = this.#sent[shard] as number;
      if (reply.lastSequence <= afterSequence || !this.#following) continue;
      // The records hold at least events afterSequence+1 .. min(last, afterSequence+limit).
      const lastSequence = Math.min(reply.lastSequence, afterSequence + limit);
      this.#ship({ shard, afterSequence, lastSequence, records: reply.records });
      read += lastSequence - afterSequence;
    }
    return read;
  }

  #ship(batch: RecordBatch): void {
    const { shard } = batch;
    this.#sent[shard] = batch.lastSequence;
    const queue = this.#inFlight[shard] as Promise<void>[];
    const done = this.#projector.apply(batch).then(
      (mark) => {
        this.#marks[shard] = mark;
        queue.shift();
        this.#signal();
      },
      (error: unknown) => this.#stop(error),
    );
    queue.push(done);
  }

  /** The projection cannot go on (a closed ledger, a failed batch): later waits report `error`. */
  #stop(error: unknown): void {
    this.#failure ??= error;
    this.#following = false;
    this.#wake?.();
    this.#signal();
  }

  #signal(): void {
    for (const listener of this.#progress) listener();
    this.#progress.clear();
  }
}
