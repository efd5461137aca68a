// The publisher of one `replicated` shard, in its worker thread, next to the commit: the engine
// hands it each group commit's record in log order (RecordReplica), it publishes the record to the
// shard's stream at once (publishes pipeline: many in flight, acknowledged in order), and a call
// resolves once its record's acknowledgement is in.
//
// Every publish states the stream sequence it must follow (the writer counts its own records), so
// a second writer of the shard cannot append: its publish is refused, or, within the dedupe window,
// acknowledged as a duplicate of a message whose bytes are not its own. Either way this writer is
// fenced: every pending record fails with WRITER_FENCED and the engine stops for good.
//
// A failed publish (no quorum, a node lost, a timeout) stalls the shard: the records not yet
// acknowledged are published again, oldest first, one at a time, until the stream takes them (a
// republished record the stream already holds is acknowledged as a duplicate). While the stall
// lasts less than ackTimeoutMs, calls wait; after that, calls in flight and new calls fail with
// REPLICATION_UNAVAILABLE, and new calls are refused before anything is written, until the stream
// has every record.

import type { PubAck } from '@nats-io/jetstream';
import { LedgerError, type RecordReplica } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import { publishAttemptTimeoutMs, type ReplicationSettings } from './replication-options.js';
import type { ShardStream } from './shard-stream.js';

/** The JetStream API error code of a publish whose expected last sequence was wrong. */
export const wrongLastSequenceCode = 10071;
const retryBackoffMs = 100;

/** Whose record a stream position holds, as far as could be read. */
type Placement = 'ours' | 'theirs' | 'unknown';

interface PendingRecord {
  readonly first: number;
  readonly last: number;
  readonly bytes: Uint8Array;
  /** The stream sequence this record must follow. */
  readonly expectedLastSeq: number;
  acknowledged: boolean;
  /** Resolves once the record was acknowledged or failed. */
  readonly settled: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: LedgerError) => void;
}

export class ShardReplicator implements RecordReplica {
  private readonly stream: ShardStream;
  private readonly settings: ReplicationSettings;
  private readonly ledgerId: string;
  /** The stream sequence the next record must follow. */
  private nextExpectedSeq: number;
  /** Records not yet acknowledged, in log order. */
  private readonly pending: PendingRecord[] = [];
  private stalledSinceMs: number | null = null;
  private retrying = false;
  private fenced: LedgerError | null = null;
  private closed = false;
  /** Rejected once a stall outlasts ackTimeoutMs; replaced when the stall ends. */
  private unavailable: { promise: Promise<never>; reject: (error: LedgerError) => void } | null =
    null;
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(options: {
    stream: ShardStream;
    settings: ReplicationSettings;
    ledgerId: string;
    lastSeq: number;
  }) {
    this.stream = options.stream;
    this.settings = options.settings;
    this.ledgerId = options.ledgerId;
    this.nextExpectedSeq = options.lastSeq;
  }

  /** The stream's last sequence once every record handed over so far is in. */
  get expectedLastSeq(): number {
    return this.nextExpectedSeq;
  }

  /** Moves past this writer's own fence at stream sequence `seq`, before any record follows it. */
  followFence(seq: number): void {
    assert(
      this.pending.length === 0 && seq === this.nextExpectedSeq + 1,
      'a fence follows the last acknowledged record',
    );
    this.nextExpectedSeq = seq;
  }

  replicate(first: number, last: number, bytes: Uint8Array): Promise<void> {
    if (this.fenced !== null) return Promise.reject(this.fenced);
    let resolve!: () => void;
    let reject!: (error: LedgerError) => void;
    const acknowledged = new Promise<void>((done, fail) => {
      resolve = done;
      reject = fail;
    });
    const expectedLastSeq = this.nextExpectedSeq;
    this.nextExpectedSeq += 1;
    const record: PendingRecord = {
      first,
      last,
      bytes,
      expectedLastSeq,
      acknowledged: false,
      settled: acknowledged.then(
        () => undefined,
        () => undefined,
      ),
      resolve,
      reject,
    };
    this.pending.push(record);
    if (this.stalledSinceMs === null) this.send(record);
    return acknowledged;
  }

  /** Refuses a new call, before it writes anything, while a stall outlasts ackTimeoutMs (or
   * after this writer was fenced). */
  admit(): void {
    if (this.fenced !== null) throw this.fenced;
    if (this.isUnavailable()) throw this.unavailableError();
  }

  /** Settles as `call` does, or rejects with REPLICATION_UNAVAILABLE once a stall outlasts
   * ackTimeoutMs (the call's record stays queued and is replicated when the stream returns). */
  guard<T>(call: Promise<T>): Promise<T> {
    return Promise.race([call, this.unavailableSignal()]);
  }

  private isUnavailable(): boolean {
    const since = this.stalledSinceMs;
    return since !== null && Date.now() - since >= this.settings.ackTimeoutMs;
  }

  private unavailableError(): LedgerError {
    return new LedgerError('REPLICATION_UNAVAILABLE', {
      stream: this.stream.name,
      pendingRecords: this.pending.length,
      stalledMs: this.stalledSinceMs === null ? 0 : Date.now() - this.stalledSinceMs,
    });
  }

  private unavailableSignal(): Promise<never> {
    if (this.isUnavailable()) return Promise.reject(this.unavailableError());
    if (this.unavailable === null) {
      let reject!: (error: LedgerError) => void;
      const promise = new Promise<never>((_resolve, fail) => (reject = fail));
      promise.catch(() => undefined);
      this.unavailable = { promise, reject };
    }
    return this.unavailable.promise;
  }

  private send(record: PendingRecord): void {
    this.stream
      .publish(
        { ledgerId: this.ledgerId, ...record },
        record.expectedLastSeq,
        publishAttemptTimeoutMs,
      )
      .then(
        async (ack) => {
          const placed = await this.placementOf(record, ack);
          if (placed === 'ours') this.acknowledge(record);
          else if (placed === 'theirs') this.fence(this.fencedError(record, ack.seq));
          else this.stall();
        },
        () => this.stall(),
      )
      .catch((error: unknown) => this.fence(error));
  }

  /** Where an acknowledged publish put the record: stored right after the expected sequence is
   * ours (the server enforces the expectation); a duplicate, or anything unexpected, is checked
   * against what the stream holds there. */
  private placementOf(record: PendingRecord, ack: PubAck): Promise<Placement> | Placement {
    if (!ack.duplicate && ack.seq === record.expectedLastSeq + 1) return 'ours';
    return this.storedAt(record);
  }

  /** Whether the stream holds this record's very bytes right after its expected sequence
   * ('theirs': another writer's record is there); 'unknown' when nothing could be read there (a
   * leader being elected): asked again later. A duplicate's acknowledged sequence is not relied
   * on: a leader elected meanwhile may not have the original's position in its dedupe index. */
  private async storedAt(record: PendingRecord): Promise<Placement> {
    let stored: Awaited<ReturnType<ShardStream['recordAt']>>;
    try {
      stored = await this.stream.recordAt(record.expectedLastSeq + 1, true);
    } catch {
      return 'unknown';
    }
    if (stored === undefined) return 'unknown';
    return sameBytes(stored.bytes, record.bytes) ? 'ours' : 'theirs';
  }

  private fencedError(record: PendingRecord, seq: number | null): LedgerError {
    return new LedgerError('WRITER_FENCED', {
      stream: this.stream.name,
      sequence: record.first,
      expectedLastSeq: record.expectedLastSeq,
      storedSeq: seq,
      problem: 'another writer appended to the shard stream',
    });
  }

  private acknowledge(record: PendingRecord): void {
    record.acknowledged = true;
    while (this.pending.length > 0 && (this.pending[0] as PendingRecord).acknowledged) {
      (this.pending.shift() as PendingRecord).resolve();
    }
  }

  private fence(error: unknown): void {
    const fenced =
      error instanceof LedgerError
        ? error
        : new LedgerError('WRITER_FENCED', { stream: this.stream.name, problem: String(error) });
    this.fenced ??= fenced;
    this.endStall();
    for (const record of this.pending.splice(0)) record.reject(this.fenced);
  }

  /** Enters the stall (once) and starts publishing the pending records again, oldest first. */
  private stall(): void {
    if (this.fenced !== null || this.closed) return;
    if (this.stalledSinceMs === null) {
      this.stalledSinceMs = Date.now();
      this.stallTimer = setTimeout(() => {
        if (this.isUnavailable()) this.unavailable?.reject(this.unavailableError());
      }, this.settings.ackTimeoutMs);
    }
    if (!this.retrying) void this.retry();
  }

  private async retry(): Promise<void> {
    this.retrying = true;
    try {
      while (this.pending.length > 0 && this.fenced === null && !this.closed) {
        const head = this.pending[0] as PendingRecord;
        if (!(await this.republish(head))) await delay(retryBackoffMs);
      }
    } catch (error) {
      this.fence(error);
    } finally {
      this.retrying = false;
    }
    if (this.pending.length === 0) this.endStall();
  }

  /** One more try of the oldest pending record: true once the stream holds it. */
  private async republish(head: PendingRecord): Promise<boolean> {
    if (head.acknowledged) {
      this.acknowledge(head);
      return true;
    }
    let placed: Placement;
    try {
      const ack = await this.stream.publish(
        { ledgerId: this.ledgerId, ...head },
        head.expectedLastSeq,
        publishAttemptTimeoutMs,
      );
      placed = await this.placementOf(head, ack);
    } catch (error) {
      if (apiErrorCode(error) !== wrongLastSequenceCode) return false;
      // Something is where this record belongs: an earlier try of it (past the dedupe window,
      // or not yet in a new leader's dedupe index), or another writer's record.
      placed = await this.storedAt(head);
    }
    if (placed === 'theirs') throw this.fencedError(head, head.expectedLastSeq + 1);
    if (placed === 'unknown') return false;
    this.acknowledge(head);
    return true;
  }

  private endStall(): void {
    this.stalledSinceMs = null;
    clearTimeout(this.stallTimer);
    this.unavailable = null;
  }

  /** Waits up to ackTimeoutMs for the records handed over to be acknowledged, then stops: any
   * still pending fail with REPLICATION_UNAVAILABLE (they are committed locally, and the next
   * open of this dir publishes them), so that closing a shard never hangs on a lost quorum. */
  async close(): Promise<void> {
    const last = this.pending.at(-1);
    if (last !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.settings.ackTimeoutMs);
      });
      await Promise.race([last.settled, timeout]);
      clearTimeout(timer);
    }
    this.closed = true;
    const error = new LedgerError('REPLICATION_UNAVAILABLE', {
      stream: this.stream.name,
      problem: 'closed before the stream acknowledged',
    });
    for (const record of this.pending.splice(0)) record.reject(error);
    this.endStall();
  }
}

export function apiErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown; api_error?: { err_code?: unknown } }).code;
  if (typeof code === 'number') return code;
  const apiCode = (error as { api_error?: { err_code?: unknown } }).api_error?.err_code;
  return typeof apiCode === 'number' ? apiCode : undefined;
}

export function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  return Buffer.compare(left, right) === 0;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
