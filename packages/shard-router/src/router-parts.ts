// The parts of an open ledger that its calls go through: a client per shard, the partition map
// that routes an account to its shard, the saga coordinator for transfers that span two shards,
// and the guard that keeps transfer ids unique across shards. Ledger builds them once on open
// (open-ledger.ts) and hands them to the write and read paths; sendCommandsByShard is the plain
// way to send commands that each name their shard.

import { type Command, type CommandStatus } from '@shardledger/ledger-core';
import { assert } from '@shardledger/ledger-core/internals';
import type { PartitionMap } from './partition.js';
import type { SagaCoordinator } from './saga/saga-coordinator.js';
import type { ShardClient } from './shard/shard-client.js';
import { ShardBuckets } from './shard-buckets.js';
import type { TransferIdGuard } from './write/id-check.js';

export interface RouterParts {
  /** One client per shard, in shard order. */
  readonly clients: readonly ShardClient[];
  readonly partitions: PartitionMap;
  readonly sagas: SagaCoordinator;
  /** Keeps transfer ids unique across shards (write/id-check.ts); null with one shard, where the
   * shard's own check covers every id, or with transferIdScope 'shard'. */
  readonly transferIds: TransferIdGuard | null;
}

/** The client of `shard`, a shard the router computed itself (always in range). */
export function clientOf(parts: RouterParts, shard: number): ShardClient {
  const client = parts.clients[shard];
  assert(client !== undefined, 'a routed shard has a client');
  return client;
}

/** A command for one shard, or null for an input answered without a shard (its status is in the
 * fallback list). */
export type ShardCommand = { readonly shard: number; readonly command: Command } | null;

/** Sends commands to their shards (coalesced per shard) and returns statuses in input order:
 * each command's status at its position, the fallback's status where the entry is null. */
export function sendCommandsByShard(
  parts: RouterParts,
  commands: readonly ShardCommand[],
  fallback: readonly CommandStatus[],
): Promise<CommandStatus[]> {
  const buckets = new ShardBuckets<Command>();
  commands.forEach((entry, position) => {
    if (entry !== null) buckets.add(entry.shard, entry.command, position);
  });
  return buckets.scatter(fallback.slice(), async (shard, items) =>
    (await clientOf(parts, shard).submit(items)).map((result) => result.status),
  );
}
