// replicationStatus as the package's entry point exports it: the NATS client is loaded when it is
// called, so that an application that never replicates never loads it.

import type { ReplicationOptions } from './replication-options.js';
import type { ReplicationStatus } from './replication-status.js';

/** Each shard stream's state, replicas and lag, read from the cluster (`shardledger replicate
 * status`). */
export async function replicationStatus(options: ReplicationOptions): Promise<ReplicationStatus> {
  return (await import('./replication-status.js')).replicationStatus(options);
}
