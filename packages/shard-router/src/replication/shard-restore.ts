// Opening a `replicated` shard: before its engine opens, the shard's local log and its stream are
// brought level. Records the stream holds past the local log's end (a new or stale dir, or commits
// a lost machine acknowledged) are appended to the local log, and the engine's recovery then
// replays them like any others. Records the local log holds past the stream's end (committed
// here, never acknowledged: the process died before the stream answered, or replication was just
// turned on for an existing ledger) are published, in order. Where both hold a record at the same
// place they must be the same bytes; where they differ another writer took over the shard, and
// this dir is refused (WRITER_FENCED): it must be restored afresh.
//
// Once level, this writer publishes its fence (shard-stream.ts) right after the last record: from
// then on no earlier writer can append, so nothing a deposed owner does after this open is ever
// acknowledged. If that owner appended meanwhile, the fence is refused, and the shard is brought
// level again (its new records restored) before the fence is tried once more. Each fence's token
// is noted in the shard dir first (`stream-fences`): local records past the stream's end are
// published only when every fence after the stream's last record is one this dir published (its
// writer committed them, and died before the stream had them); past another writer's fence they
// were committed by a deposed owner, never acknowledged, and the dir is refused.
import { LedgerError } from '@shardledger/ledger-core';
import {
  assert,
  LogRestorer,
  writeFileAtomic,
  type LogTail,
} from '@shardledger/ledger-core/internals';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectNats, withinOpenTimeout, type NatsLink } from './nats-connection.js';
import type { ReplicationSettings } from './replication-options.js';
import {
  apiErrorCode,
  sameBytes,
  ShardReplicator,
  wrongLastSequenceCode,
} from './shard-replicator.js';
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
    const token = randomUUID();
    let restoredRecords = 0;
    let restoredEvents = 0;
    try {
      for (;;) {
        const level = await bringLevel(stream, restorer, options);
        restoredRecords += level.restoredRecords;
        restoredEvents += level.restoredEvents;
        const fence = { ledgerId: options.ledgerId, after: restorer.tail()?.last ?? 0, token };
        await noteOwnFence(options.dir, token);
        if (await publishFence(stream, level.replicator, fence))
          return { ...level, restoredRecords, restoredEvents, link };
      }
    } finally {
      await restorer.close();
    }
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
  checkLedger(stream, await stream.recordAt(lastSeq), options);
  const { record: streamTail, fences: fencesAfter } = await stream.tailAt(lastSeq);
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
  // The fences after the stream's last record are of writers that opened since.
  const own = await ownFences(options.dir);
  if (fencesAfter.some((fence) => !own.has(fence))) throw diverged(stream, options.dir, localLast);
  let publishedRecords = 0;
  const acknowledged: Promise<void>[] = [];
  for (const record of restorer.recordsAfter(streamTail?.last ?? 0)) {
    acknowledged.push(replicator.replicate(record.first, record.last, record.bytes));
    publishedRecords += 1;
  }
  await Promise.all(acknowledged);
  return { replicator, restoredRecords: 0, restoredEvents: 0, publishedRecords };
}

const fencesFileName = 'stream-fences';

/** The tokens of the fences this shard dir published (one per line). */
async function ownFences(dir: string): Promise<Set<string>> {
  try {
    const text = await readFile(join(dir, fencesFileName), 'utf8');
    return new Set(text.split('\n').filter((line) => line !== ''));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Set();
    throw error;
  }
}

/** Notes `token` as this dir's, durably, before its fence is published. */
async function noteOwnFence(dir: string, token: string): Promise<void> {
  const tokens = await ownFences(dir);
  if (tokens.has(token)) return;
  await writeFileAtomic(join(dir, fencesFileName), `${[...tokens, token].join('\n')}\n`);
}

/** Publishes this writer's fence right after the stream's last message as `replicator` follows it
 * (every record of the local log is in the stream by then). True once the fence is in, with the
 * replicator moved past it; false when another writer appended first (bring the shard level
 * again). A publish that does not answer is tried again up to the open timeout. */
async function publishFence(
  stream: ShardStream,
  replicator: ShardReplicator,
  fence: { ledgerId: string; after: number; token: string },
): Promise<boolean> {
  const expectedLastSeq = replicator.expectedLastSeq;
  const placed = await withinOpenTimeout(stream.settings, async () => {
    try {
      const ack = await stream.publishFence(fence, expectedLastSeq);
      // A duplicate is an earlier try of this very fence (its id names this writer's token).
      return ack.seq === expectedLastSeq + 1;
    } catch (error) {
      if (apiErrorCode(error) === wrongLastSequenceCode) return false;
      throw error;
    }
  });
  if (placed) replicator.followFence(expectedLastSeq + 1);
  return placed;
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
    if (record.fence !== null) return;
    const last = await restorer.append(record.bytes, `${stream.name}#${record.seq}`);
    assert(last === record.last, 'a streamed record ends where its header says');
    restoredRecords += 1;
    restoredEvents += record.last - record.first + 1;
  });
  return { restoredRecords, restoredEvents };
}
