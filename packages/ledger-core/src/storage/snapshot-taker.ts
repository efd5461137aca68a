// When and how a shard takes snapshots: after a commit once `snapshotIntervalEvents` events or
// `snapshotIntervalMs` have passed since the last one, or when asked. The state is cut at once
// (the writes' pause, snapshot-cut.ts); its body is encoded a slice per turn of the event loop,
// while the shard goes on, and the file is written once the log holds every event it
// describes.

import { assert } from '../assert.js';
import { limits } from '../limits.js';
import type { LedgerState } from '../domain/state.js';
import type { SnapshotInfo } from './engine-types.js';
import type { EventLog } from './event-log.js';
import type { FailStop } from './fail-stop.js';
import type { ShardDatabases } from './lmdb-env.js';
import { cutState, encodeCut } from './snapshot-cut.js';
import type { SnapshotIds } from './snapshot-ids.js';
import type { SnapshotStore } from './snapshot-store.js';

export interface SnapshotTakerOptions {
  readonly store: SnapshotStore;
  readonly log: EventLog;
  readonly env: ShardDatabases['env'];
  readonly stop: FailStop;
  readonly intervalEvents: number;
  readonly intervalMs: number;
}

export class SnapshotTaker {
  private readonly options: SnapshotTakerOptions;
  /** The sequence of the last snapshot taken (or recovered from), and when it was taken. */
  private lastSequence = 0;
  private lastAtMs = Date.now();
  private running: Promise<SnapshotInfo> | null = null;

  constructor(options: SnapshotTakerOptions) {
    this.options = options;
  }

  /** Notes the snapshot recovery started from. */
  recoveredFrom(sequence: number): void {
    this.lastSequence = sequence;
  }

  /** Whether a snapshot is due at `lastSequence` and none is being written. */
  due(lastSequence: number): boolean {
    const { intervalEvents, intervalMs } = this.options;
    const dueByCount = lastSequence - this.lastSequence >= intervalEvents;
    const dueByTime =
      intervalMs > 0 &&
      lastSequence > this.lastSequence &&
      Date.now() - this.lastAtMs >= intervalMs;
    return (dueByCount || dueByTime) && this.running === null;
  }

  /** Captures `state`, with the id filters `ids` gives (snapshot-ids.ts), and writes it once
   * `durable` (the log up to it) has resolved; while one is being written, answers with that
   * one. */
  async take(
    state: LedgerState,
    durable: Promise<void>,
    ids: () => SnapshotIds,
  ): Promise<SnapshotInfo> {
    if (this.running !== null) return this.running;
    const started = performance.now();
    const cut = cutState(state, ids());
    const pauseMs = performance.now() - started;
    const sequence = cut.head.lastSequence;
    this.lastSequence = sequence;
    this.lastAtMs = Date.now();
    const { store, log, env, stop } = this.options;
    const running = (async (): Promise<SnapshotInfo> => {
      const body = await encodeCut(cut, () => new Promise(setImmediate));
      // Never write a snapshot ahead of the durable log.
      await durable;
      await stop.race(env.flushed);
      const logDigest = log.digestAt(sequence);
      assert(logDigest !== undefined, 'the log holds the record a snapshot ends at');
      const file = await store.write(sequence, body, logDigest);
      store.prune(limits.snapshotsKept);
      return { sequence: file.sequence, file: file.path, sizeBytes: file.sizeBytes, pauseMs };
    })();
    this.running = running;
    try {
      return await running;
    } finally {
      this.running = null;
    }
  }

  /** Resolves once no snapshot is being written (whatever its outcome). */
  async idle(): Promise<void> {
    if (this.running !== null) await this.running.catch(() => undefined);
  }
}
