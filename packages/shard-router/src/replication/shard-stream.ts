// One shard's stream on the NATS JetStream cluster: one message per group commit of the shard, in
// log order, holding the log record's stored bytes unchanged, and one fence message per writer
// that opened the shard. A writer knows the stream sequence every publish must follow (its fence,
// then its own records), states it (expected last sequence), and any other writer's publish is
// refused: a writer that opens publishes its fence right after the records it restored, so that
// every earlier writer, even one that was only paused, can append nothing more. Each message
// carries its record's first and last event sequence in headers (a fence: the sequence after the
// last record before it, and that last one), so a reader finds a record without decoding it.

import {
  DeliverPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  type PubAck,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { LedgerError } from '@shardledger/ledger-core';
import { unavailable, withinOpenTimeout, type NatsLink } from './nats-connection.js';
import {
  openTimeoutMs,
  publishAttemptTimeoutMs,
  recordMessageId,
  requestTimeoutMs,
  streamName,
  streamSubject,
  type ReplicationSettings,
  type StreamState,
} from './replication-options.js';

const firstHeader = 'Shardledger-First';
const lastHeader = 'Shardledger-Last';
/** On a fence message only: the token of the writer that published it. */
const fenceHeader = 'Shardledger-Fence';
/** The dedupe window of each stream: a message id republished within it is acknowledged as a
 * duplicate, not stored again. */
const duplicateWindowNs = 2 * 60 * 1_000_000_000;
/** Records one fetch of a restore brings (a record is up to about a megabyte). */
const readBatchMessages = 32;

/** A message as the stream holds it: a log record, or a writer's fence (no events: `last` is
 * the last event sequence before it and `first` the one after, and its bytes are empty). */
export interface StreamRecord {
  /** Its stream sequence. */
  readonly seq: number;
  readonly first: number;
  readonly last: number;
  readonly messageId: string;
  readonly bytes: Uint8Array;
  /** A fence's writer token; null for a record. */
  readonly fence: string | null;
}

/** Where a message sorts in event order: a fence before the record that follows it. */
function orderKey(record: StreamRecord): number {
  return record.fence !== null ? record.first - 0.5 : record.first;
}

export class ShardStream {
  readonly name: string;
  readonly subject: string;
  readonly shard: number;
  private readonly link: NatsLink;
  readonly settings: ReplicationSettings;

  constructor(link: NatsLink, settings: ReplicationSettings, shard: number) {
    this.link = link;
    this.settings = settings;
    this.shard = shard;
    this.name = streamName(settings.name, shard);
    this.subject = streamSubject(settings.name, shard);
  }

  /** Creates the stream when the cluster has none of that name. */
  async ensure(): Promise<void> {
    await withinOpenTimeout(this.settings, async () => {
      try {
        await this.link.manager.streams.info(this.name);
        return;
      } catch (error) {
        if (!String((error as Error).message).includes('not found')) throw error;
      }
      await this.link.manager.streams.add({
        name: this.name,
        subjects: [this.subject],
        num_replicas: this.settings.replicas,
        // Every record is kept: the stream is the shard's log, not a queue.
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.New,
        storage: StorageType.File,
        duplicate_window: duplicateWindowNs,
        max_msgs_per_subject: -1,
        deny_delete: true,
        deny_purge: true,
      });
    });
  }

  /** What the stream reports, for a status display: an answer from a replica while the stream has
   * no leader (leader null) may be behind (leaderLastSeq says so). */
  async state(): Promise<StreamState> {
    const info = await this.link.manager.streams.info(this.name);
    const replicas = info.cluster?.replicas ?? [];
    return {
      name: this.name,
      messages: info.state.messages,
      lastSeq: info.state.last_seq,
      bytes: info.state.bytes,
      replicas: info.config.num_replicas,
      leader: info.cluster?.leader ?? null,
      followers: replicas.map((peer) => ({
        name: peer.name,
        current: peer.current,
        lag: peer.lag ?? 0,
      })),
    };
  }

  /** The stream's last sequence as its leader has it, for a writer to follow and a restore to
   * read through. Stream info is not enough on its own: while the stream's group has no leader (an
   * election, as when a node rejoins), any replica answers it with its own state, which may lack
   * the newest acknowledged records. So an answer that names no leader is asked again, and the
   * answer is checked by reading the message after its last sequence, which only the leader
   * serves: one there means the answer came from a replica behind, and it is asked again.
   * Retried up to openTimeoutMs. */
  async leaderLastSeq(): Promise<number> {
    return withinOpenTimeout(this.settings, async () => {
      const info = await this.link.manager.streams.info(this.name);
      if (info.cluster !== undefined && !info.cluster.leader)
        throw new Error(`stream ${this.name} has no leader`);
      const lastSeq = info.state.last_seq;
      if ((await this.recordAt(lastSeq + 1, true)) !== undefined)
        throw new Error(`stream ${this.name} info came from a replica behind its leader`);
      return lastSeq;
    });
  }

  /** The record at stream sequence `seq`; undefined when there is none. A cluster that does not
   * answer is retried up to openTimeoutMs, unless `once`: then its error is thrown. */
  async recordAt(seq: number, once = false): Promise<StreamRecord | undefined> {
    if (seq < 1) return undefined;
    const get = async (): Promise<StoredMsg | null> => {
      try {
        return await this.link.manager.streams.getMessage(this.name, { seq });
      } catch (error) {
        if (String((error as Error).message).includes('no message found')) return null;
        throw error;
      }
    };
    const message = once ? await get() : await withinOpenTimeout(this.settings, get);
    if (message === null) return undefined;
    return this.recordOf(seq, message.header, message.data);
  }

  private recordOf(
    seq: number,
    header: { get(key: string): string } | undefined,
    bytes: Uint8Array,
  ): StreamRecord {
    const first = Number(header?.get(firstHeader));
    const last = Number(header?.get(lastHeader));
    const messageId = header?.get('Nats-Msg-Id') ?? '';
    const fence = header?.get(fenceHeader) || null;
    if (
      !Number.isSafeInteger(first) ||
      !Number.isSafeInteger(last) ||
      (fence !== null ? last !== first - 1 || bytes.length !== 0 : last < first)
    )
      throw new LedgerError('STORAGE_CORRUPT', {
        stream: this.name,
        seq,
        problem: 'message without its record sequences',
      });
    return { seq, first, last, messageId, bytes, fence };
  }

  /** The last log record at or before stream sequence `seq` (undefined when there is none), and
   * the tokens of the fences after it, up to `seq`. */
  async tailAt(seq: number): Promise<{ record: StreamRecord | undefined; fences: string[] }> {
    const fences: string[] = [];
    for (let at = seq; at >= 1; at -= 1) {
      const message = await this.recordAt(at);
      if (message === undefined || message.fence === null) return { record: message, fences };
      fences.push(message.fence);
    }
    return { record: undefined, fences };
  }

  /** The stream sequence of the record whose first event is `first`, by binary search over the
   * stream (messages are in event order, a fence before the record after it); undefined when no
   * record starts there. */
  async seqOfRecord(first: number, lastSeq: number): Promise<number | undefined> {
    let low = 1;
    let high = lastSeq;
    while (low <= high) {
      const middle = Math.floor((low + high) / 2);
      const record = await this.recordAt(middle);
      if (record === undefined) return undefined;
      if (record.fence === null && record.first === first) return middle;
      if (orderKey(record) < first) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /** Calls `each` with every record from stream sequence `fromSeq` through `toSeq`, in order,
   * read by an ordered consumer in fetches of `readBatchMessages` (one stream pass). A fetch, not
   * `consume`: with records of hundreds of kilobytes, `consume` stopped asking for more after
   * about 50 MB and the restore waited for good. A fetch that brings nothing is retried until
   * the open timeout, then the read fails with REPLICATION_UNAVAILABLE. */
  async readRange(
    fromSeq: number,
    toSeq: number,
    each: (record: StreamRecord) => Promise<void>,
  ): Promise<void> {
    if (fromSeq > toSeq) return;
    const consumer = await this.link.client.consumers.get(this.name, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: fromSeq,
    });
    let next = fromSeq;
    let idleSinceMs = Date.now();
    while (next <= toSeq) {
      const batch = await consumer.fetch({
        max_messages: Math.min(readBatchMessages, toSeq - next + 1),
        expires: requestTimeoutMs,
      });
      for await (const message of batch) {
        await each(this.recordOf(message.seq, message.headers, message.data));
        next = message.seq + 1;
        idleSinceMs = Date.now();
      }
      if (next <= toSeq && Date.now() - idleSinceMs > openTimeoutMs)
        throw unavailable(this.settings, `no record past stream sequence ${next - 1} of ${toSeq}`);
    }
  }

  /** Publishes this writer's fence after the record ending at event sequence `after` (0: none),
   * expecting the stream's last sequence to be `expectedLastSeq`. */
  publishFence(
    fence: { ledgerId: string; after: number; token: string },
    expectedLastSeq: number,
  ): Promise<PubAck> {
    const fenceHeaders = headers();
    fenceHeaders.set(firstHeader, String(fence.after + 1));
    fenceHeaders.set(lastHeader, String(fence.after));
    fenceHeaders.set(fenceHeader, fence.token);
    return this.link.client.publish(this.subject, new Uint8Array(0), {
      msgID: `${fence.ledgerId}:${this.shard}:fence-${fence.after + 1}-${fence.token}`,
      expect: { lastSequence: expectedLastSeq },
      headers: fenceHeaders,
      timeout: publishAttemptTimeoutMs,
    });
  }

  /** Publishes a record, expecting the stream's last sequence to be `expectedLastSeq`. */
  publish(
    record: { ledgerId: string; first: number; last: number; bytes: Uint8Array },
    expectedLastSeq: number,
    timeoutMs: number,
  ): Promise<PubAck> {
    const recordHeaders = headers();
    recordHeaders.set(firstHeader, String(record.first));
    recordHeaders.set(lastHeader, String(record.last));
    return this.link.client.publish(this.subject, record.bytes, {
      msgID: recordMessageId(record.ledgerId, this.shard, record.first),
      expect: { lastSequence: expectedLastSeq },
      headers: recordHeaders,
      timeout: timeoutMs,
    });
  }
}
