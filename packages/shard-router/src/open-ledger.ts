// Opening a data dir (Ledger.open): the options are checked, the dir created when missing and
// locked for this process, the manifest read or written, one worker started per shard (each
// recovers from its own log), and the sagas a crash interrupted finished or rolled back. Whatever
// fails on the way closes the shards that did open before the lock goes: no worker of a failed
// open may outlive it and write beside the next owner of the dir.

import { mkdir } from 'node:fs/promises';
import { LedgerError, limits } from '@shardledger/ledger-core';
import { shardCountDefault } from './shard-count.js';
import { checkLedgerOptions } from './arguments.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import type { LedgerOptions } from './ledger-types.js';
import { mapSizeBytesDefault } from './metrics.js';
import {
  finishCreation,
  ledgerIdentity,
  openOrCreateManifest,
  partitionMapDigest,
  readManifest,
  refuseForeignDir,
  type Manifest,
} from './manifest.js';
import { PartitionMap } from './partition.js';
import type { LedgerLease } from './replication/ledger-lease.js';
import type { ManifestReplica } from './replication/manifest-replica.js';
import {
  replicationSettings,
  type ReplicationSettings,
} from './replication/replication-options.js';
import type { RouterParts } from './router-parts.js';
import { SagaCoordinator } from './saga/saga-coordinator.js';
import { ShardClient } from './shard/shard-client.js';
import { TransferIdGuard } from './write/id-check.js';

/** What the sagas finished on open: committed, or released (rolled back). */
export interface Recovery {
  readonly sagasCommitted: number;
  readonly sagasReleased: number;
}

/** An open ledger's dir and shards, ready for calls. */
export interface OpenedLedger {
  readonly manifest: Manifest;
  readonly lock: DirLock;
  readonly parts: RouterParts;
  readonly recovery: Recovery;
  /** A replicated ledger's lease, held until close; null for any other. */
  readonly lease: LedgerLease | null;
}

/** Creates the data dir (and its parents) when missing; a path that is a file, or one this
 * process may not create, is a typed error, never a raw Node one. */
async function makeDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? null;
    if (code === 'EEXIST' || code === 'ENOTDIR')
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'dir',
        dir,
        problem: 'a file, not a directory, is in the way',
      });
    throw new LedgerError('IO_ERROR', { dir, code, problem: String((error as Error).message) });
  }
}

/** Opens (or creates) the ledger in `options.dir`: resolves once every shard recovered from its
 * log and every saga interrupted by a crash was finished or rolled back. */
export async function openLedger(options: LedgerOptions): Promise<OpenedLedger> {
  checkLedgerOptions(options);
  // A missing dir is created (LedgerOptions.dir); the lock lives inside it.
  await refuseForeignDir(options.dir);
  await makeDataDir(options.dir);
  const lock = await acquireDirLock(options.dir);
  const replication = replicationOf(options);
  let manifestReplica: ManifestReplica | undefined;
  let lease: LedgerLease | null = null;
  try {
    // Replicated: this process takes the ledger's lease (a standby waits for it here), then a
    // new dir gets the cluster's manifest, if it has one, and is restored. The NATS client is
    // loaded only here: a ledger that does not replicate never loads it.
    if (replication !== undefined) {
      const { acquireLedgerLease } = await import('./replication/ledger-lease.js');
      lease = await acquireLedgerLease(replication, options.dir);
      manifestReplica = await (
        await import('./replication/manifest-replica.js')
      ).openManifestReplica(options.dir, replication);
    }
    const existing = await readManifest(options.dir);
    const shards = options.shards ?? existing?.shards ?? shardCountDefault;
    const { manifest, shardDirs, creating } = await openOrCreateManifest({
      dir: options.dir,
      shards,
    });
    await manifestReplica?.publish(manifest);
    await manifestReplica?.close();
    const opened = await openShards(options, manifest, shardDirs, creating);
    const clients = opened.flatMap((result) =>
      result.status === 'fulfilled' ? [result.value] : [],
    );
    try {
      const failed = opened.find(
        (result): result is PromiseRejectedResult => result.status === 'rejected',
      );
      if (failed !== undefined) throw failed.reason;
      if (creating) await finishCreation(options.dir);
      const { parts, recovery } = await recoverSagas(options, manifest, clients);
      return { manifest, lock, parts, recovery, lease };
    } catch (error) {
      await Promise.allSettled(clients.map((client) => client.close()));
      throw error;
    }
  } catch (error) {
    await manifestReplica?.close();
    await lease?.release();
    await lock.release();
    throw error;
  }
}

/** Starts a worker per shard dir, each told what its shard must be (shard-identity.ts: checked
 * by the worker before it opens); settles once every one opened or failed. */
function openShards(
  options: LedgerOptions,
  manifest: Manifest,
  shardDirs: readonly string[],
  creating: boolean,
): Promise<PromiseSettledResult<ShardClient>[]> {
  const identity = {
    ledgerId: ledgerIdentity(manifest),
    partitionMapDigest: partitionMapDigest(manifest),
    create: creating,
    shards: manifest.shards,
    partitionMap: manifest.partitionMap,
  };
  const replication = replicationOf(options);
  const engine = {
    durability: options.durability ?? (replication === undefined ? 'strict' : 'replicated'),
    ...(replication === undefined ? {} : { replication }),
    // Written out so that the size Ledger.metrics() reports is the one in force.
    mapSizeBytes: mapSizeBytesDefault,
    ...(options.snapshotIntervalEvents !== undefined
      ? { snapshotIntervalEvents: options.snapshotIntervalEvents }
      : {}),
    ...(options.snapshotIntervalMs !== undefined
      ? { snapshotIntervalMs: options.snapshotIntervalMs }
      : {}),
    ...(options.accountHistory !== undefined ? { accountHistory: options.accountHistory } : {}),
  };
  return Promise.allSettled(
    shardDirs.map((dir, shard) =>
      ShardClient.open({
        shard,
        dir,
        engine: { ...engine, identity: { ...identity, shard } },
        ...(options.failpoints !== undefined ? { failpoints: options.failpoints } : {}),
        ...(options.shardYoungGenerationMb !== undefined
          ? { youngGenerationMb: options.shardYoungGenerationMb }
          : {}),
      }),
    ),
  );
}

/** Builds the router over the opened shards and finishes the sagas a crash interrupted; the
 * transfer-id guard starts from the greatest id each shard stores once they are finished. */
async function recoverSagas(
  options: LedgerOptions,
  manifest: Manifest,
  clients: readonly ShardClient[],
): Promise<{ parts: RouterParts; recovery: Recovery }> {
  const partitions = new PartitionMap({
    shards: manifest.shards,
    partitionMap: manifest.partitionMap,
  });
  const sagas = new SagaCoordinator({
    clients,
    shardOf: (accountId) => partitions.shardOf(accountId),
    stepTimeoutMs: options.sagaStepTimeoutMs ?? limits.sagaStepTimeoutMs,
  });
  const recovered = await sagas.recoverAll();
  const transferIds =
    clients.length > 1 && options.transferIdScope !== 'shard'
      ? new TransferIdGuard(
          (await Promise.all(clients.map((client) => client.info()))).map(
            (info) => info.transferIdMax,
          ),
          await Promise.all(clients.map((client) => client.transferIdFilter())),
        )
      : null;
  return {
    parts: { clients, partitions, sagas, transferIds },
    recovery: { sagasCommitted: recovered.committed, sagasReleased: recovered.released },
  };
}

/** The replication settings of `options`, or undefined when the ledger does not replicate. */
function replicationOf(options: LedgerOptions): ReplicationSettings | undefined {
  return options.replication === undefined ? undefined : replicationSettings(options.replication);
}
