// Opening a `replicated` shard: before its engine opens, the shard's local log and its stream are
// brought level. Records the stream holds past the local log's end (a new or stale dir, or commits
// a lost machine acknowledged) are appended to the local log, and the engine's recovery then
// replays them like any others. Records the local log holds past the stream's end (committed
// here, never acknowledged: the process died before the stream answered, or replication was just
// turned on for an existing ledger) are published, in order. Where both hold a record at the same
// place they must be the same bytes; where they differ another writer took over the shard, and
// this dir is refused (WRITER_FENCED): it must be restored afresh.

import { LedgerError } from '@shardledger/ledger-core';
import { assert, LogRestorer, type LogTail } from '@shardledger/ledger-core/internals';
import { connectNats, type NatsLink } from './nats-connection.js';
import type { ReplicationSettings } from './replication-options.js';
import { sameBytes, ShardReplicator } from './shard-replicator.js';
import { ShardStream, type StreamRecord } from './shard-stream.js';

export interface ShardReplicaOptions {
  readonly dir: string;
  readonly shard: number;
  readonly ledgerId: string;
  readonly settings: ReplicationSettings;
  readonly mapSizeBytes: number;
}

/** What opening a replicated shard leaves: the publisher for the engine, and what it did. */
export interface OpenedShardReplica {
  readonly replicator: ShardReplicator;
  readonly link: NatsLink;
  /** Records appended to the local log from the stream, and their events. */
  readonly restoredRecords: number;
  readonly restoredEvents: number;
  /** Records published from the local log to the stream. */
  readonly publishedRecords: number;
}

function diverged(stream: ShardStream, dir: string, sequence: number): LedgerError {
  return new LedgerError('WRITER_FENCED', {
    stream: stream.name,
    dir,
    sequence,
    problem: 'the local log and the replicated log differ: restore this shard into a new dir',
  });
}

/** Connects, makes sure the shard's stream exists and brings the local log and the stream level.
 * The engine is opened afterwards, with the returned replicator. */
export async function openShardReplica(options: ShardReplicaOptions): Promise<OpenedShardReplica> {
  const { settings, shard } = options;
  const link = await connectNats(settings, `shardledger shard ${shard}`);
  try {
    const stream = new ShardStream(link, settings, shard);
    await stream.ensure();
    const restorer = LogRestorer.open(options.dir, options.mapSizeBytes);
    let level: Omit<OpenedShardReplica, 'link'>;
    try {
      level = await bringLevel(stream, restorer, options);
    } finally {
      await restorer.close();
    }
    return { ...level, link };
  } catch (error) {
    await link.connection.close();
    throw error;
  }
}

async function bringLevel(
  stream: ShardStream,
  restorer: LogRestorer,
  options: ShardReplicaOptions,
): Promise<Omit<OpenedShardReplica, 'link'>> {
  const local = restorer.tail();
  // The leader's end, not any replica's: a restore that stopped short would lose acknowledged
  // records, and a writer that followed a stale end would be refused by the stream and fence
  // itself (shard-stream.ts leaderLastSeq).
  const lastSeq = await stream.leaderLastSeq();
  const streamTail = await stream.recordAt(lastSeq);
  checkLedger(stream, streamTail, options);
  const replicator = new ShardReplicator({
    stream,
    settings: options.settings,
    ledgerId: options.ledgerId,
    lastSeq,
  });
  const localLast = local?.last ?? 0;
  if (streamTail !== undefined && streamTail.last >= localLast) {
    const from = local === undefined ? 1 : await commonSeq(stream, local, lastSeq, options.dir);
    const restored = await appendFromStream(stream, restorer, from, lastSeq);
    return { replicator, ...restored, publishedRecords: 0 };
  }
  if (streamTail !== undefined) {
    const mine = restorer.recordAt(streamTail.first);
    if (mine === undefined || !sameBytes(mine, streamTail.bytes))
      throw diverged(stream, options.dir, streamTail.first);
  }
  let publishedRecords = 0;
  const acknowledged: Promise<void>[] = [];
  for (const record of restorer.recordsAfter(streamTail?.last ?? 0)) {
    acknowledged.push(replicator.replicate(record.first, record.last, record.bytes));
    publishedRecords += 1;
  }
  await Promise.all(acknowledged);
  return { replicator, restoredRecords: 0, restoredEvents: 0, publishedRecords };
}

/** Refuses a stream written by another ledger of the same name. */
function checkLedger(
  stream: ShardStream,
  tail: StreamRecord | undefined,
  options: ShardReplicaOptions,
): void {
  if (tail === undefined) return;
  const ledgerId = tail.messageId.slice(0, tail.messageId.lastIndexOf(`:${options.shard}:`));
  if (ledgerId !== options.ledgerId)
    throw new LedgerError('SHARD_IDENTITY_MISMATCH', {
      shard: options.shard,
      dir: options.dir,
      problem: 'foreign',
      stream: stream.name,
      storedLedgerId: ledgerId,
    });
}

/** The stream sequence after which the local log's records end: where the local tail is. */
async function commonSeq(
  stream: ShardStream,
  local: LogTail,
  lastSeq: number,
  dir: string,
): Promise<number> {
  const seq = await stream.seqOfRecord(local.first, lastSeq);
  const stored = seq === undefined ? undefined : await stream.recordAt(seq);
  if (seq === undefined || stored === undefined || !sameBytes(stored.bytes, local.bytes))
    throw diverged(stream, dir, local.first);
  return seq + 1;
}

async function appendFromStream(
  stream: ShardStream,
  restorer: LogRestorer,
  fromSeq: number,
  toSeq: number,
): Promise<{ restoredRecords: number; restoredEvents: number }> {
  let restoredRecords = 0;
  let restoredEvents = 0;
  await stream.readRange(fromSeq, toSeq, async (record) => {
    const last = await restorer.append(record.bytes, `${stream.name}#${record.seq}`);
    assert(last === record.last, 'a streamed record ends where its header says');
    restoredRecords += 1;
    restoredEvents += record.last - record.first + 1;
  });
  return { restoredRecords, restoredEvents };
}
