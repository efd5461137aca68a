// A shard's writer epoch: a fence that refuses the second of two writers even when the data dir's
// lock was fooled (its file deleted or replaced, two hosts on NFS). The router's dir lock keeps a
// second process out; this catches the writer that got past it anyway, at its first commit.
//
// The `writer` db of the shard's environment holds one entry whose LMDB version is the epoch. Each
// ShardEngine.open takes the next epoch (a put conditional on the version it read, so two opens
// racing cannot both take one epoch) and flushes it before recovery reads the log. Every write
// transaction of the engine afterwards is an lmdb-js conditional block on that entry still having
// this epoch as its version: LMDB checks it inside the write transaction, under its writer mutex,
// so the check and the commit are one atomic step. A newer writer's epoch makes every later
// commit of the older one a no-op (nothing of it is written), and the older one stops: it
// acknowledges nothing more, and its memory, ahead of the log, is never used again.
//
// Why the older writer is the one refused: the newer one recovered from a log that already held
// everything the older one had committed before the newer epoch, and nothing the older one writes
// after it reaches the log. So every acknowledged commit is in the newer writer's state.
//
// Cost: one version comparison per group commit, done by LMDB in the write transaction.

import { hostname } from 'node:os';
import type { Database, RootDatabase } from 'lmdb';
import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';

const writerKey = 'writer';

/** Who took the epoch: for an operator reading the env, never for a decision. */
export interface WriterRecord {
  readonly pid: number;
  readonly host: string;
  readonly openedAtMs: number;
}

export interface WriterFenceOptions {
  readonly env: RootDatabase;
  /** The `writer` db, opened with `useVersions: true` (lmdb-env.ts). */
  readonly db: Database<WriterRecord, string>;
  /** For error details. */
  readonly dir: string;
}

export class WriterFence {
  readonly epoch: number;
  private readonly db: Database<WriterRecord, string>;
  private readonly dir: string;

  private constructor(options: WriterFenceOptions, epoch: number) {
    this.db = options.db;
    this.dir = options.dir;
    this.epoch = epoch;
  }

  /** Takes the next epoch, durably, before anything else of this open reads or writes the log.
   * Throws WRITER_FENCED when another open took the same epoch first. */
  static async take(options: WriterFenceOptions): Promise<WriterFence> {
    const entry = options.db.getEntry(writerKey);
    const stored = entry?.version ?? 0;
    assert(Number.isSafeInteger(stored) && stored >= 0, 'a writer epoch is a non-negative integer');
    const epoch = stored + 1;
    const record: WriterRecord = { pid: process.pid, host: hostname(), openedAtMs: Date.now() };
    // The first epoch only if no writer ever took one (LMDB's no-overwrite); a later one only if
    // the version read is still there.
    const taken =
      entry === undefined
        ? await options.db.ifNoExists(writerKey, () => void options.db.put(writerKey, record, epoch))
        : await options.db.put(writerKey, record, epoch, stored);
    if (!taken) throw new WriterFence(options, epoch).refusal();
    await options.env.flushed;
    return new WriterFence(options, epoch);
  }

  /** Runs `writes` (puts and removes of this environment, issued synchronously) as one block
   * that LMDB commits only if the stored epoch is still this one. Resolves true once committed,
   * false when another writer's epoch refused it (nothing of the block was written). */
  guard(writes: () => void): Promise<boolean> {
    return this.db.ifVersion(writerKey, this.epoch, writes);
  }

  /** The error of a refused commit. */
  refusal(): LedgerError {
    const stored = this.db.getEntry(writerKey)?.version;
    return new LedgerError('WRITER_FENCED', { dir: this.dir, epoch: this.epoch, storedEpoch: stored ?? null });
  }
}
