// The shard worker's side of replication: opening the shard's replica from the worker's data (before
// the engine), and closing it with the engine.

import { LedgerError } from '@shardledger/ledger-core';
import type { ShardEngineWireOptions } from '../shard/shard-protocol.js';
import type { OpenedShardReplica } from './shard-restore.js';

/** Opens the replica of a `replicated` shard; undefined for any other mode. */
export async function openReplica(
  dir: string,
  shard: number,
  engine: ShardEngineWireOptions,
): Promise<OpenedShardReplica | undefined> {
  const settings = engine.replication;
  if (settings === undefined) return undefined;
  const ledgerId = engine.identity?.ledgerId;
  if (ledgerId === undefined || engine.mapSizeBytes === undefined)
    throw new LedgerError('INVALID_ARGUMENT', {
      shard,
      problem: 'a replicated shard needs its ledger identity and map size',
    });
  // The NATS client is loaded only here: a worker of a shard that does not replicate never loads it.
  const { openShardReplica } = await import('./shard-restore.js');
  return openShardReplica({ dir, shard, ledgerId, settings, mapSizeBytes: engine.mapSizeBytes });
}

/** Closes the connection (after the publisher and the engine closed: nothing is pending). */
export async function closeReplica(replica: OpenedShardReplica | undefined): Promise<void> {
  if (replica === undefined) return;
  await replica.link.connection.close();
}
