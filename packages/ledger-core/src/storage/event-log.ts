// Reads of a shard's event log: the LMDB `log` database, sequence of a record's first event ->
// one encoded record per group commit (event-record.ts encodeEventRecord). Damage found while reading is
// STORAGE_CORRUPT naming the shard and the record.

import { LedgerError } from '../errors.js';
import type { LedgerEvent } from '../domain/types.js';
import { decodeEventRecord, type EventRecord } from './event-record.js';
import { corruptionOf } from './corruption.js';
import type { SequencedEvent } from './engine-types.js';
import type { ShardDatabases } from './lmdb-env.js';
import { checkChecksum } from './record-checksum.js';
import { logRecordDigest } from './snapshot-store.js';

export class EventLog {
  private readonly db: ShardDatabases['log'];
  /** The shard directory, named by every error. */
  private readonly dir: string;

  constructor(db: ShardDatabases['log'], dir: string) {
    this.db = db;
    this.dir = dir;
  }

  /** A log record, decoded and checked; damage is STORAGE_CORRUPT naming this shard and the
   * record's first sequence (its key: the record's own bytes are what cannot be trusted). */
  decodeRecord(key: number, value: Uint8Array): EventRecord {
    try {
      return decodeEventRecord(value);
    } catch (error) {
      throw (
        corruptionOf(error, { dir: this.dir, sequence: key }) ??
        new LedgerError('STORAGE_CORRUPT', { dir: this.dir, sequence: key, problem: String(error) })
      );
    }
  }

  /** The record whose first sequence is `first`, decoded; undefined when there is none. */
  recordAt(first: number): EventRecord | undefined {
    const bytes = this.db.getBinary(first);
    return bytes === undefined ? undefined : this.decodeRecord(first, bytes);
  }

  /** The sequence number of the last event in the log (0 when it is empty). */
  lastSequence(): number {
    for (const { key, value } of this.db.getRange({ reverse: true, limit: 1 })) {
      const record = this.decodeRecord(key, value);
      return record.first + record.events.length - 1;
    }
    return 0;
  }

  /** The digest a snapshot at `sequence` is bound to (snapshot-store.ts): of the log record
   * that holds that sequence; of no bytes at sequence 0. Undefined when the log has no record
   * there. */
  digestAt(sequence: number): Buffer | undefined {
    if (sequence === 0) return logRecordDigest(new Uint8Array(0));
    for (const { value } of this.db.getRange({ start: sequence, reverse: true, limit: 1 }))
      return logRecordDigest(value);
    return undefined;
  }

  /** The key of the record that holds event `after + 1` (where a read after `after` starts). */
  private startAfter(after: number): number {
    let start = after + 1;
    for (const { key } of this.db.getRange({ start: after + 1, reverse: true, limit: 1 }))
      start = key;
    return start;
  }

  /** Events with sequence > after, in order, from the log. */
  *events(after: number): Generator<SequencedEvent> {
    for (const { key, value } of this.db.getRange({ start: this.startAfter(after) })) {
      const record = this.decodeRecord(key, value);
      for (let index = 0; index < record.events.length; index += 1) {
        const sequence = record.first + index;
        if (sequence > after) yield { sequence, event: record.events[index] as LedgerEvent };
      }
    }
  }

  /** Up to `limit` events after `afterSequence`, none past `through`. */
  readEvents(afterSequence: number, limit: number, through: number): SequencedEvent[] {
    const events: SequencedEvent[] = [];
    if (limit <= 0) return events;
    for (const item of this.events(afterSequence)) {
      if (item.sequence > through) break;
      events.push(item);
      if (events.length >= limit) break;
    }
    return events;
  }

  /** The stored records from the one holding event `afterSequence + 1`, checked but not decoded,
   * none starting past `through`; stops once the records hold `limitEvents` events after
   * `afterSequence` (at least one record is returned when there is one). */
  readRecords(afterSequence: number, limitEvents: number, through: number): Uint8Array[] {
    const records: Uint8Array[] = [];
    if (limitEvents <= 0) return records;
    for (const { key, value } of this.db.getRange({ start: this.startAfter(afterSequence) })) {
      if (key > through) break;
      // Records before this one hold events afterSequence+1 .. key-1.
      if (records.length > 0 && key - 1 - afterSequence >= limitEvents) break;
      this.checkRecord(key, value);
      // A copy: LMDB's buffer is only valid until the read transaction moves on.
      records.push(Uint8Array.prototype.slice.call(value));
    }
    return records;
  }

  /** Checks a stored record's checksum without decoding it (the reader decodes it elsewhere). */
  private checkRecord(key: number, value: Uint8Array): void {
    try {
      checkChecksum(value);
    } catch (error) {
      throw corruptionOf(error, { dir: this.dir, sequence: key }) ?? error;
    }
  }
}
