// The one write block of each commit, in write order: the log record, then the index entries
// derived from it, then 'indexedThrough'. lmdb-js commits a prefix of this order, so an index
// entry is never durable without its event, and recovery re-derives entries past
// 'indexedThrough' from the log. Each block is committed only while the fence token is the one
// this writer's previous write left (writer-fence.ts): another writer's open, or an earlier
// failed commit of this one, makes it a no-op, so no commit lands after a failed one and the
// log never gets a hole.

import { timestampKey } from './event-record.js';
import type { LedgerError } from '../errors.js';
import { storageErrorOf, type FailStop } from './fail-stop.js';
import type { IdIndex } from './id-index.js';
import type { ShardDatabases } from './lmdb-env.js';
import type { RecordReplica } from './replication-hooks.js';
import type { StagedWrites } from './staged-writes.js';
import type { WriterFence } from './writer-fence.js';

/** meta key: the last sequence whose index entries are all written. */
export const INDEXED_THROUGH = 'indexedThrough';
/** meta key: the first sequence whose transfer may lack its index entry, while random-id
 * transfers are kept in memory only (scattered-runs.ts; a format-4 build deferred their
 * transfers-db entries the same way). Recovery re-derives them (engine-recovery.ts), and the
 * write of what it re-derived removes the key. */
export const DEFERRED_FROM = 'deferredFrom';

export interface CommitWriterParts {
  readonly dir: string;
  readonly db: ShardDatabases;
  /** Where the staged index writes come from. */
  readonly index: IdIndex;
  readonly fence: WriterFence;
  /** Stopped by the first refused or failed write. */
  readonly stop: FailStop;
  /** `replicated` durability: where each record also goes (replication-hooks.ts). */
  readonly replica: RecordReplica | undefined;
}

/** lmdb-js opens each event turn's transaction with a write of its own, in a task it queues at
 * the turn's first write, and keeps that write's promise to itself: when the transaction fails
 * (a full disk) and another is queued behind it, that promise rejects with nobody listening, and
 * the unhandled rejection would end the shard's thread, so that every call in flight got
 * SHARD_UNAVAILABLE instead of the failure. Our own block's promise reports the failure; this
 * listens to the transaction's promise (`committed`, once lmdb-js' task has made it). */
function listenToTurnCommit(db: ShardDatabases): void {
  setImmediate(() => {
    // Both callbacks: lmdb-js' `committed` calls the first without checking it is there.
    db.env.committed.then(ignoreTurnOutcome, ignoreTurnOutcome);
  });
}

function ignoreTurnOutcome(): void {}

/** The flush of this event turn's transaction, taken now (lmdb-js' `flushed` names the latest
 * transaction when it is awaited). Listened to at once: its rejection is the block's failure,
 * which the block's own promise reports. */
function flushOf(db: ShardDatabases): Promise<void> {
  const flushed = new Promise<void>((resolve, reject) => {
    db.env.flushed.then(() => resolve(), reject);
  });
  flushed.then(undefined, ignoreTurnOutcome);
  return flushed;
}

/** Whether the block was written, once it is also flushed when `flushed` is given. A refused
 * block wrote nothing and does not wait for a flush (one that another process's open rolled back,
 * as it could under lmdb-js' overlappingSync, never reported one). */
async function afterFlush(
  written: Promise<boolean>,
  flushed: Promise<void> | null,
): Promise<boolean> {
  const owned = await written;
  if (owned && flushed !== null) await flushed;
  return owned;
}

/** Resolves once both have; rejects with the first rejection. */
async function bothDone(committed: Promise<void>, replicated: Promise<void>): Promise<void> {
  await Promise.all([committed, replicated]);
}

export class CommitWriter {
  private readonly parts: CommitWriterParts;

  constructor(parts: CommitWriterParts) {
    this.parts = parts;
  }

  /** Writes the record of events `first`..`last` and what the index staged for them; resolves
   * once committed (and flushed to disk when `flush`) and, with a replica, once the replica holds
   * it. A refused or failed write, or a replica that fenced this writer out, stops the shard for
   * good and rejects with the reason. */
  append(
    first: number,
    last: number,
    encoded: Buffer,
    firstTimestamp: bigint,
    flush: boolean,
  ): Promise<void> {
    const { db, index, fence, stop, dir } = this.parts;
    let staged: StagedWrites | undefined;
    const expected = fence.issued;
    const written = fence.guard(() => {
      void db.log.put(first, encoded);
      staged = index.flush(db, first);
      void db.meta.put(`t${timestampKey(firstTimestamp)}`, first);
      void db.meta.put(INDEXED_THROUGH, last);
    });
    listenToTurnCommit(db);
    const flushed = flush ? flushOf(db) : null;
    // Issued now, in log order, beside the local write: the two round trips overlap.
    const replicated = this.parts.replica?.replicate(first, last, encoded).catch((error) => {
      throw stop.fail(error as LedgerError);
    });
    const committed = stop.race(afterFlush(written, flushed)).then(
      async (owned) => {
        // Refused: nothing was written, memory is ahead of the log; stop for good. An earlier
        // failure of this engine is the cause when there is one, else another writer's open.
        // A block of ours that never landed (a full disk) refuses the ones queued behind it
        // before its own failure is recorded (storageErrorOf waits for LMDB's reason): wait for
        // that failure rather than blame another writer.
        if (!owned) {
          if (stop.failure === null && fence.followsOwnFailure(expected))
            await stop.race(new Promise<never>(() => undefined));
          throw stop.fail(stop.failure ?? fence.refusal());
        }
        index.forget(staged as StagedWrites);
      },
      async (error: unknown) => {
        throw stop.fail(await storageErrorOf(error, { dir, sequence: first }));
      },
    );
    return replicated === undefined ? committed : bothDone(committed, replicated);
  }

  /** Writes, durably, the index entries recovery re-derived and 'indexedThrough' = `last`. */
  async indexThrough(last: number): Promise<void> {
    const { db, index, fence, stop } = this.parts;
    let staged: StagedWrites | undefined;
    const done = fence.guard(() => {
      staged = index.flush(db, last + 1);
      void db.meta.remove(DEFERRED_FROM);
      void db.meta.put(INDEXED_THROUGH, last);
    });
    listenToTurnCommit(db);
    const owned = await stop.race(afterFlush(done, flushOf(db)));
    if (!owned) throw fence.refusal();
    index.forget(staged as StagedWrites);
  }
}
