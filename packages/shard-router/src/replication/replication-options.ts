// The `replication` option of Ledger.open and what follows from it: the names of a ledger's
// streams and bucket on the NATS cluster, and the defaults, written out in one place.

import { LedgerError } from '@shardledger/ledger-core';

export interface ReplicationOptions {
  /** Client URLs of the NATS JetStream cluster, e.g. ['nats://10.0.0.1:4222', ...]; the
   * client connects to any one and fails over to the others. */
  readonly servers: readonly string[];
  /** Names this ledger on the cluster (default 'shardledger'): shard s replicates to the stream
   * `<name>-shard-<s>`, and the manifest lives in the KV bucket `<name>-ledger`. Letters, digits,
   * '-' and '_'. */
  readonly name?: string;
  /** Copies of each stream the cluster keeps (default 3; 1 to 5). A publish is acknowledged once
   * a majority of them hold it. */
  readonly replicas?: number;
  /** How long a shard may go without its stream's acknowledgement before calls fail with
   * REPLICATION_UNAVAILABLE (default 5,000 ms; 100 to 600,000). The shard keeps trying meanwhile,
   * and takes calls again once the stream answers. */
  readonly ackTimeoutMs?: number;
  /** How long the ledger's lease lives without being renewed (default 10,000 ms; 1,000 to
   * 600,000). One process at a time serves a replicated ledger: it holds the lease, a key in the
   * ledger's KV bucket, and renews it every quarter of this. Another process may take it over
   * once it has not been renewed for this long, so this bounds how soon a standby takes over. */
  readonly leaseTtlMs?: number;
  /** When another live process holds the lease: false (default) fails the open with
   * LEASE_HELD; true waits, as a standby, until that process closes the ledger or dies, then
   * takes the lease, catches the dir up from the streams and serves. */
  readonly standby?: boolean;
}

/** ReplicationOptions with every default filled in, as it crosses to a shard worker. */
export interface ReplicationSettings {
  readonly servers: readonly string[];
  readonly name: string;
  readonly replicas: number;
  readonly ackTimeoutMs: number;
  readonly leaseTtlMs: number;
  readonly standby: boolean;
}

export const replicationDefaults = {
  name: 'shardledger',
  replicas: 3,
  ackTimeoutMs: 5_000,
  leaseTtlMs: 10_000,
  standby: false,
} as const;

export const replicasMax = 5;
export const ackTimeoutMsMin = 100;
export const ackTimeoutMsMax = 600_000;
export const leaseTtlMsMin = 1_000;
export const leaseTtlMsMax = 600_000;
/** How long opening waits for the cluster (connection, JetStream API, stream creation). */
export const openTimeoutMs = 15_000;
/** How long one request to the JetStream API waits (retried within openTimeoutMs while opening). */
export const requestTimeoutMs = 2_000;
/** How long one publish attempt waits for its acknowledgement before it is retried. */
export const publishAttemptTimeoutMs = 1_000;

const namePattern = /^[A-Za-z0-9_-]{1,64}$/;

function refuse(field: string, problem: string): never {
  throw new LedgerError('INVALID_ARGUMENT', { field: `replication.${field}`, problem });
}

/** `value` as the field's integer from `min` to `max`, or INVALID_ARGUMENT. */
function integerIn(field: string, value: unknown, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)
    refuse(field, `an integer from ${min} to ${max}`);
  return value as number;
}

/** Checks `value` as the `replication` option; returns it with its defaults. */
export function replicationSettings(value: unknown): ReplicationSettings {
  if (typeof value !== 'object' || value === null) refuse('', 'must be an object');
  const options = value as Record<string, unknown>;
  const servers = options['servers'];
  if (!Array.isArray(servers) || servers.length === 0)
    refuse('servers', 'must be a non-empty array of NATS URLs');
  for (const server of servers as unknown[])
    if (typeof server !== 'string' || server.length === 0)
      refuse('servers', 'each server must be a non-empty string');
  const name = options['name'] ?? replicationDefaults.name;
  if (typeof name !== 'string' || !namePattern.test(name))
    refuse('name', "1 to 64 letters, digits, '-' or '_'");
  const replicas = integerIn(
    'replicas',
    options['replicas'] ?? replicationDefaults.replicas,
    1,
    replicasMax,
  );
  const ackTimeoutMs = integerIn(
    'ackTimeoutMs',
    options['ackTimeoutMs'] ?? replicationDefaults.ackTimeoutMs,
    ackTimeoutMsMin,
    ackTimeoutMsMax,
  );
  const leaseTtlMs = integerIn(
    'leaseTtlMs',
    options['leaseTtlMs'] ?? replicationDefaults.leaseTtlMs,
    leaseTtlMsMin,
    leaseTtlMsMax,
  );
  const standby = options['standby'] ?? replicationDefaults.standby;
  if (typeof standby !== 'boolean') refuse('standby', 'must be true or false');
  return {
    servers: [...(servers as string[])],
    name,
    replicas,
    ackTimeoutMs,
    leaseTtlMs,
    standby,
  };
}

/** The stream of shard `shard`. */
export function streamName(name: string, shard: number): string {
  return `${name}-shard-${shard}`;
}

/** The one subject of shard `shard`'s stream. */
export function streamSubject(name: string, shard: number): string {
  return `${name}.shard.${shard}`;
}

/** The KV bucket holding the ledger's manifest. */
export function ledgerBucketName(name: string): string {
  return `${name}-ledger`;
}

/** The message id of a record: ledger, shard and the record's first sequence. */
export function recordMessageId(ledgerId: string, shard: number, first: number): string {
  return `${ledgerId}:${shard}:${first}`;
}

/** What a ledger's lease key holds: the process that serves the ledger (its random holder id,
 * host, pid, data dir and since when, an ISO time), for LEASE_HELD and `replicate status`. */
export interface LeaseHolder {
  readonly holder: string;
  readonly host: string;
  readonly pid: number;
  readonly dir: string;
  readonly since: string;
}

/** One shard stream as the cluster reports it (replicationStatus). */
export interface StreamState {
  readonly name: string;
  readonly messages: number;
  readonly lastSeq: number;
  readonly bytes: number;
  readonly replicas: number;
  readonly leader: string | null;
  /** Each replica other than the leader: its name, whether it is current, how far behind. */
  readonly followers: readonly { name: string; current: boolean; lag: number }[];
}
