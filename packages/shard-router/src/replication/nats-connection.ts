// Connecting to the NATS cluster, for a shard worker, the opening router and the CLI alike: a
// failure is REPLICATION_UNAVAILABLE naming the servers, never a raw client error.

import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { LedgerError } from '@shardledger/ledger-core';
import {
  ledgerBucketName,
  openTimeoutMs,
  requestTimeoutMs,
  type ReplicationSettings,
} from './replication-options.js';

export interface NatsLink {
  readonly connection: NatsConnection;
  readonly client: JetStreamClient;
  readonly manager: JetStreamManager;
}

/** The error of a cluster that does not answer. */
export function unavailable(settings: ReplicationSettings, problem: unknown): LedgerError {
  const message = problem instanceof Error ? problem.message : String(problem);
  return new LedgerError('REPLICATION_UNAVAILABLE', {
    servers: settings.servers.join(','),
    problem: message,
  });
}

/** Retries `attempt` until it succeeds or `openTimeoutMs` passed (a cluster still electing its
 * leaders answers after a moment). */
export async function withinOpenTimeout<T>(
  settings: ReplicationSettings,
  attempt: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + openTimeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof LedgerError || Date.now() > deadline) {
        throw error instanceof LedgerError ? error : unavailable(settings, error);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Connects to the cluster and its JetStream API. `label` names the connection on the server. */
export async function connectNats(settings: ReplicationSettings, label: string): Promise<NatsLink> {
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: [...settings.servers],
      name: label,
      // Once connected, reconnect for ever: a lost node must not end the shard.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      timeout: openTimeoutMs,
    });
  } catch (error) {
    throw unavailable(settings, error);
  }
  try {
    const manager = await withinOpenTimeout(settings, () =>
      jetstreamManager(connection, { timeout: requestTimeoutMs }),
    );
    return { connection, client: jetstream(connection, { timeout: requestTimeoutMs }), manager };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** The ledger's KV bucket (its manifest and its lease), created on a cluster that has none. */
export function ledgerBucket(link: NatsLink, settings: ReplicationSettings): Promise<KV> {
  return withinOpenTimeout(settings, () =>
    new Kvm(link.client).create(ledgerBucketName(settings.name), {
      replicas: settings.replicas,
      history: 1,
    }),
  );
}
