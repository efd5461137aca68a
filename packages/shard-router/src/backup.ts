// Ledger.backup: a copy of every shard at one consistent cut, written while writes go on.
//
// A saga moves money between shards in steps, each a message to one shard sent after the
// replies to earlier steps came back (saga/saga-coordinator.ts). Copies of the shards taken at
// unrelated moments can therefore disagree: one shard's copy holding a saga committed while
// the other's does not yet hold its reservation, a state no crash can leave and that recovery,
// which settles open reservations only, cannot repair (money created or destroyed). So:
//   1. Barrier: every shard client stops posting to its worker (calls queue up meanwhile), and
//      the router waits until each worker has answered everything it was sent. No saga step is
//      then on its way to a shard, and what the shards hold is exactly the effect of the
//      messages posted before the barrier: a set that holds, with every step, the replies that
//      caused it, which is a state a crash could leave and recovery settles.
//   2. Under the barrier each worker opens an LMDB read transaction at what it has committed
//      (the cut) and answers with the sequence it cut at; then the barrier lifts. Writes stop
//      for about one commit, longer only behind a slow request already in flight (a verify()).
//   3. Each worker copies its databases from that transaction into the target and fsyncs them
//      (backup-copy.ts in ledger-core), writes going on meanwhile.
//   4. The target holds BACKUP-INCOMPLETE from its creation until the manifest is in, written
//      last: a copy cut short never opens as a ledger.

import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { LedgerError, isLedgerError, type BackupInfo } from '@shardledger/ledger-core';
import { assert, syncDir, writeFileAtomic } from '@shardledger/ledger-core/internals';
import { manifestFileName, shardDirName } from './manifest.js';
import type { BackupResult } from './ledger-types.js';
import type { ShardClient } from './shard/shard-client.js';

/** In a backup's dir from its start until its manifest is in. */
export const backupIncompleteFileName = 'BACKUP-INCOMPLETE';

export interface BackupSource {
  /** The data dir. */
  readonly dir: string;
  /** One per shard, in shard order. */
  readonly clients: readonly ShardClient[];
}

export async function backupLedger(source: BackupSource, target: string): Promise<BackupResult> {
  if (typeof target !== 'string' || target === '')
    throw new LedgerError('INVALID_ARGUMENT', { field: 'target', problem: 'required' });
  const from = resolve(source.dir);
  const destination = resolve(target);
  if (destination === from || destination.startsWith(from + sep)) {
    throw new LedgerError('INVALID_ARGUMENT', {
      field: 'target',
      target,
      problem: 'inside the data dir',
    });
  }
  const started = performance.now();
  await createTarget(destination, target);
  const marker = join(destination, backupIncompleteFileName);
  try {
    // A marker first, so that a copy cut short is never taken for a new, empty data dir (which
    // Ledger.open would create in a dir holding only its own entries): with it, open refuses the
    // dir (NOT_A_LEDGER) until the manifest is in.
    await writeFileAtomic(
      marker,
      'a backup was being written here; it did not finish: delete this dir\n',
    );
  } catch (error) {
    throw new LedgerError('IO_ERROR', { target, problem: String((error as Error).message) });
  }
  const shardDirs = source.clients.map((_, shard) => join(destination, shardDirName(shard)));
  const cuts = await cutEveryShard(source.clients, shardDirs);
  // Every copy begun is waited for, even when another shard's cut failed: none is left writing
  // into the target after backup() has settled.
  const copies = await Promise.allSettled(
    source.clients.map((client, shard) => {
      const cut = cuts[shard] as PromiseSettledResult<{ sequence: number }>;
      return cut.status === 'fulfilled'
        ? client.backupDone(shardDirs[shard] as string)
        : Promise.reject(cut.reason);
    }),
  );
  const shards: BackupInfo[] = [];
  for (const copy of copies) {
    if (copy.status === 'rejected') throw copy.reason;
    shards.push(copy.value);
  }
  const cut = cuts.map(
    (result) => (result as PromiseFulfilledResult<{ sequence: number }>).value.sequence,
  );
  shards.forEach((shard, index) =>
    assert(shard.sequenceAtLeast === cut[index], 'a shard copied what it cut'),
  );
  // The manifest last, as it is on disk: the copy is a data dir only once every shard is in it.
  try {
    await writeFileAtomic(
      join(destination, manifestFileName),
      await readFile(join(source.dir, manifestFileName), 'utf8'),
    );
    await rm(marker);
    await syncDir(destination);
  } catch (error) {
    if (isLedgerError(error)) throw error;
    throw new LedgerError('IO_ERROR', { target, problem: String((error as Error).message) });
  }
  return { dir: target, cut, shards, ms: performance.now() - started };
}

async function createTarget(destination: string, target: string): Promise<void> {
  try {
    await mkdir(dirname(destination), { recursive: true });
    // Not `recursive`: an existing target fails, so a backup never mixes with other files.
    await mkdir(destination);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new LedgerError('INVALID_ARGUMENT', {
        field: 'target',
        target,
        problem: 'already exists',
      });
    throw new LedgerError('IO_ERROR', { target, problem: String((error as Error).message) });
  }
}

/** Steps 1 and 2: holds every client's sends, cuts each shard once its worker has answered all
 * it was sent, and lifts the hold whatever happened. One outcome per shard. */
async function cutEveryShard(
  clients: readonly ShardClient[],
  dirs: readonly string[],
): Promise<PromiseSettledResult<{ sequence: number }>[]> {
  for (const client of clients) client.holdSends();
  try {
    return await Promise.allSettled(
      clients.map(async (client, shard) => {
        await client.whenIdle();
        return client.backupCut(dirs[shard] as string);
      }),
    );
  } finally {
    for (const client of clients) client.releaseSends();
  }
}
