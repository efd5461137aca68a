// What `shardledger replicate status` shows: for a ledger on a NATS cluster, its manifest's shard
// count and ledger id, the process that holds its lease, and for each shard's stream its
// messages, last sequence, size, leader and each replica's state and lag (in stream messages),
// read from the cluster alone.

import { Kvm } from '@nats-io/kv';
import { LedgerError } from '@shardledger/ledger-core';
import { manifestProblem, type Manifest } from '../manifest.js';
import { leaderEntry, parseHolder } from './ledger-lease.js';
import { connectNats, withinOpenTimeout } from './nats-connection.js';
import {
  ledgerBucketName,
  replicationSettings,
  type LeaseHolder,
  type ReplicationOptions,
  type StreamState,
} from './replication-options.js';
import { ShardStream } from './shard-stream.js';

export interface ReplicationStatus {
  readonly name: string;
  readonly ledgerId: string;
  readonly shards: number;
  /** The process that serves the ledger (holds its lease); null when none does. A holder that
   * died still shows here until a process takes the lease over. */
  readonly lease: LeaseHolder | null;
  /** One per shard, in shard order. */
  readonly streams: readonly StreamState[];
}

/** The replicated state of the ledger named `options.name` on the cluster. Throws NOT_A_LEDGER
 * when the cluster holds no ledger of that name, REPLICATION_UNAVAILABLE when it does not answer. */
export async function replicationStatus(options: ReplicationOptions): Promise<ReplicationStatus> {
  const settings = replicationSettings(options);
  const link = await connectNats(settings, 'shardledger replicate status');
  try {
    const bucketName = ledgerBucketName(settings.name);
    let lease: LeaseHolder | null = null;
    const manifest = await withinOpenTimeout(settings, async () => {
      let parsed: unknown;
      try {
        const bucket = await new Kvm(link.client).open(bucketName);
        const entry = await bucket.get('manifest');
        parsed = entry?.operation === 'PUT' ? entry.json() : undefined;
        // Read from the stream's leader, as the lease itself is (ledger-lease.ts).
        const held = await leaderEntry(link, settings);
        lease = held === null ? null : parseHolder(held.value);
      } catch (error) {
        if (!String((error as Error).message).includes('stream not found')) throw error;
      }
      const problem = parsed === undefined ? 'no ledger of this name' : manifestProblem(parsed);
      if (problem !== null) throw new LedgerError('NOT_A_LEDGER', { bucket: bucketName, problem });
      return parsed as Manifest;
    });
    const streams: StreamState[] = [];
    for (let shard = 0; shard < manifest.shards; shard++)
      streams.push(await new ShardStream(link, settings, shard).state());
    return {
      name: settings.name,
      ledgerId: manifest.ledgerId ?? `created ${manifest.createdAt}`,
      shards: manifest.shards,
      lease,
      streams,
    };
  } finally {
    await link.connection.close();
  }
}
