// The ledger's manifest on the NATS cluster (KV bucket `<name>-ledger`, key `manifest`): what a new
// dir needs, besides the shards' streams, to become the same ledger again. Opening a replicated
// ledger writes it once (when the cluster has none) and compares it ever after; opening a new or
// empty dir against a cluster that has one restores it into the dir first, as a ledger being
// created, so each shard is then created and filled from its stream.

import { join } from 'node:path';
import { LedgerError } from '@shardledger/ledger-core';
import { writeFileAtomic } from '@shardledger/ledger-core/internals';
import {
  ledgerIdentity,
  manifestFileName,
  manifestProblem,
  readManifest,
  shardsCreatingFileName,
  type Manifest,
} from '../manifest.js';
import { connectNats, ledgerBucket, withinOpenTimeout } from './nats-connection.js';
import { ledgerBucketName, type ReplicationSettings } from './replication-options.js';

const manifestKey = 'manifest';

/** The replicated manifest, reconciled with the dir's before the dir's manifest is opened. */
export interface ManifestReplica {
  /** After the dir's manifest was opened (or created): stores it on the cluster when the cluster
   * has none yet, else checks that it is the same ledger. */
  publish(manifest: Manifest): Promise<void>;
  close(): Promise<void>;
}

/** Connects to the cluster, and restores the cluster's manifest into `dir` when the dir has none
 * (a new or empty dir: checked by the caller before). */
export async function openManifestReplica(
  dir: string,
  settings: ReplicationSettings,
): Promise<ManifestReplica> {
  const link = await connectNats(settings, 'shardledger router');
  try {
    const bucket = await ledgerBucket(link, settings);
    const storedEntry = await withinOpenTimeout(settings, () => bucket.get(manifestKey));
    let stored: Manifest | undefined;
    if (storedEntry !== null && storedEntry.operation === 'PUT') {
      const parsed: unknown = storedEntry.json();
      const problem = manifestProblem(parsed);
      if (problem !== null)
        throw new LedgerError('NOT_A_LEDGER', { bucket: ledgerBucketName(settings.name), problem });
      stored = parsed as Manifest;
      if ((await readManifest(dir)) === undefined) await restoreManifest(dir, stored);
    }
    return {
      async publish(manifest) {
        if (stored === undefined) {
          await withinOpenTimeout(settings, () =>
            bucket.create(manifestKey, JSON.stringify(manifest)),
          );
          return;
        }
        if (ledgerIdentity(stored) !== ledgerIdentity(manifest))
          throw new LedgerError('SHARD_IDENTITY_MISMATCH', {
            dir,
            problem: 'foreign',
            bucket: ledgerBucketName(settings.name),
            storedLedgerId: ledgerIdentity(stored),
          });
      },
      close: () => link.connection.close(),
    };
  } catch (error) {
    await link.connection.close();
    throw error;
  }
}

/** Writes the cluster's manifest into a dir that has none, marked as being created: the open
 * then creates every shard, and each shard fills its new log from its stream. */
async function restoreManifest(dir: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(
    join(dir, shardsCreatingFileName),
    'shards of a ledger are being restored here from its replicated log\n',
  );
  await writeFileAtomic(join(dir, manifestFileName), `${JSON.stringify(manifest, null, 2)}\n`);
}
