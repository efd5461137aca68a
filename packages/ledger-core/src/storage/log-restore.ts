// Appends to a closed shard's log the records another copy of that log holds past its end (a
// replicated log on NATS JetStream, restore.ts in shard-router): before the shard engine opens, so
// that the engine's own recovery then replays them and derives their index, history and snapshot
// state exactly as after a crash (engine-recovery.ts re-derives everything past
// 'indexedThrough'). Only the log and its time index are written here. Each block is written
// under the shard's writer fence, so a writer that opened the dir meanwhile refuses it.

import { assert } from '../assert.js';
import { LedgerError } from '../errors.js';
import type { LedgerEvent } from '../domain/types.js';
import { EventLog } from './event-log.js';
import { timestampKey } from './event-record.js';
import { openShardDatabases, type ShardDatabases } from './lmdb-env.js';
import { WriterFence } from './writer-fence.js';

/** The last record of a log: its first and last sequence and its stored bytes. */
export interface LogTail {
  readonly first: number;
  readonly last: number;
  readonly bytes: Uint8Array;
}

export class LogRestorer {
  private readonly db: ShardDatabases;
  private readonly log: EventLog;
  private readonly dir: string;
  private fence: WriterFence | null = null;
  private lastSequence: number;
  private written: Promise<boolean>[] = [];

  private constructor(dir: string, db: ShardDatabases) {
    this.dir = dir;
    this.db = db;
    this.log = new EventLog(db.log, dir);
    this.lastSequence = this.log.lastSequence();
  }

  /** Opens the shard's environment (created when missing) for a restore. */
  static open(dir: string, mapSizeBytes: number): LogRestorer {
    return new LogRestorer(dir, openShardDatabases(dir, mapSizeBytes));
  }

  /** The log's last record, or undefined when the log is empty. */
  tail(): LogTail | undefined {
    for (const { key, value } of this.db.log.getRange({ reverse: true, limit: 1 })) {
      const record = this.log.decodeRecord(key, value);
      const bytes = Uint8Array.prototype.slice.call(value);
      return { first: record.first, last: record.first + record.events.length - 1, bytes };
    }
    return undefined;
  }

  /** The stored bytes of the record whose first sequence is `first`. */
  recordAt(first: number): Uint8Array | undefined {
    const bytes = this.db.log.getBinary(first);
    return bytes === undefined ? undefined : Uint8Array.prototype.slice.call(bytes);
  }

  /** The records after event `after` (the first one starting right after it), with their
   * bounds and stored bytes, in order. */
  *recordsAfter(after: number): Generator<LogTail> {
    for (const { key, value } of this.db.log.getRange({ start: after + 1 })) {
      const record = this.log.decodeRecord(key, value);
      assert(record.first > after, 'records after a record boundary');
      const bytes = Uint8Array.prototype.slice.call(value);
      yield { first: record.first, last: record.first + record.events.length - 1, bytes };
    }
  }

  /** Appends one stored record, which must start right after the log's end; returns its last
   * sequence. A record that does not decode is STORAGE_CORRUPT naming its source. */
  async append(bytes: Uint8Array, source: string): Promise<number> {
    const record = this.log.decodeRecord(this.lastSequence + 1, bytes);
    if (record.first !== this.lastSequence + 1)
      throw new LedgerError('STORAGE_CORRUPT', {
        dir: this.dir,
        source,
        problem: `record starts at ${record.first}, the log ends at ${this.lastSequence}`,
      });
    assert(record.events.length > 0, 'a log record holds events');
    this.fence ??= await WriterFence.take({
      env: this.db.env,
      db: this.db.writer,
      dir: this.dir,
    });
    const { log, meta } = this.db;
    const timestamp = (record.events[0] as LedgerEvent).timestamp;
    this.written.push(
      this.fence.guard(() => {
        void log.put(record.first, Buffer.from(bytes));
        void meta.put(`t${timestampKey(timestamp)}`, record.first);
      }),
    );
    this.lastSequence = record.first + record.events.length - 1;
    if (this.written.length >= 256) await this.settle();
    return this.lastSequence;
  }

  /** Waits for every append so far to be committed and flushed. */
  private async settle(): Promise<void> {
    const written = this.written;
    this.written = [];
    const owned = await Promise.all(written);
    await this.db.env.flushed;
    if (owned.includes(false)) throw (this.fence as WriterFence).refusal();
  }

  /** Flushes what was appended and closes the environment. */
  async close(): Promise<void> {
    try {
      await this.settle();
    } finally {
      await this.db.env.close();
    }
  }
}
