// `@shardledger/shard-router/internals`: what the CLI and bench use beyond the Ledger API: account
// placement (the partition map and its hash), the data dir's manifest and shard dirs, and the
// types of the client that drives one shard worker. Applications use `.`; these may change with
// any release.
export { PartitionMap, hashAccountId, partitionOf } from './partition.js';
export { readManifest, shardDir, type Manifest } from './manifest.js';
export { shardCountDefault } from './shard-count.js';
export type { ShardClient } from './shard/shard-client.js';
export type { ShardRestartEvent } from './shard/worker-lifecycle.js';
export {
  startNatsCluster,
  natsServerBinary,
  type NatsCluster,
} from './replication/local-cluster.js';
