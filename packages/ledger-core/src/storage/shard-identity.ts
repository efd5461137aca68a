// Which shard of which ledger an environment is. Each shard's `events.mdb` records the ledger's id,
// its shard number and a digest of the partition map it was written under, once, when the shard is
// created. Open compares them with what the manifest expects and refuses a shard that is missing,
// empty (a file LMDB would create, or one cut to 0 bytes), swapped with another shard, copied from
// another ledger, or opened under an edited partition map: any of these would otherwise open as a
// valid ledger with accounts silently gone, and later accept their ids again.
//
// The files are checked before LMDB opens the environment, because LMDB creates a missing file.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerError } from '../errors.js';

/** The part of the shard's lmdb `meta` database these functions use. Named here rather than
 * imported from lmdb: this file's declarations are part of the package's public types, and lmdb's
 * own fail a strict type-check (no skipLibCheck) of an ES-module application. */
interface MetaStore {
  get(key: string): unknown;
  put(key: string, value: unknown): unknown;
}

export interface ShardIdentity {
  /** The manifest's ledger id (or, for a dir older than ledger ids, its creation time). */
  readonly ledgerId: string;
  readonly shard: number;
  /** The router's digest of the partition map (manifest.ts partitionMapDigest). */
  readonly partitionMapDigest: string;
}

export interface ShardIdentityExpectation extends ShardIdentity {
  /** True while the ledger is being created: a missing or new environment is then created and
   * its identity written. False for an existing ledger, whose shards must all be there. */
  readonly create: boolean;
  /** The shard the partition map routes an account id to. Given, every stored account is checked
   * against it once, before an identity is first written to a shard of an older dir. */
  readonly accountHome?: (accountId: string) => number;
}

export type ShardIdentityProblem = 'missing' | 'empty' | 'swapped' | 'foreign' | 'partition_map';

const identityKey = 'identity';
export const logFileName = 'events.mdb';

export function identityError(
  expected: ShardIdentity,
  dir: string,
  problem: ShardIdentityProblem,
  detail: Readonly<Record<string, string | number>> = {},
): LedgerError {
  return new LedgerError('SHARD_IDENTITY_MISMATCH', {
    shard: expected.shard,
    dir,
    problem,
    ...detail,
  });
}

/** Refuses, before LMDB can create anything, a shard of an existing ledger whose dir or log file
 * is gone or empty. */
export function checkShardFiles(dir: string, expected: ShardIdentityExpectation): void {
  if (expected.create) return;
  let sizeBytes: number;
  try {
    sizeBytes = statSync(join(dir, logFileName)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw identityError(expected, dir, 'missing');
    throw new LedgerError('IO_ERROR', { dir, problem: String((error as Error).message) });
  }
  if (sizeBytes === 0) throw identityError(expected, dir, 'empty');
}

/** The stored identity; undefined in a new environment or one written before identities. */
export function readShardIdentity(meta: MetaStore): ShardIdentity | undefined {
  const stored = meta.get(identityKey) as Partial<ShardIdentity> | undefined;
  if (stored === undefined) return undefined;
  return {
    ledgerId: String(stored.ledgerId),
    shard: Number(stored.shard),
    partitionMapDigest: String(stored.partitionMapDigest),
  };
}

/** Throws SHARD_IDENTITY_MISMATCH when a stored identity is not the expected one. Returns
 * whether the identity still has to be written: a shard being created, or a shard of an older dir
 * that `looksWritten` (it holds what every earlier open wrote), which is upgraded. */
export function checkShardIdentity(options: {
  readonly stored: ShardIdentity | undefined;
  readonly expected: ShardIdentityExpectation;
  readonly dir: string;
  readonly looksWritten: boolean;
}): boolean {
  const { stored, expected, dir } = options;
  if (stored === undefined) {
    if (expected.create || options.looksWritten) return true;
    throw identityError(expected, dir, 'empty');
  }
  if (stored.ledgerId !== expected.ledgerId)
    throw identityError(expected, dir, 'foreign', { storedLedgerId: stored.ledgerId });
  if (stored.shard !== expected.shard)
    throw identityError(expected, dir, 'swapped', { storedShard: stored.shard });
  if (stored.partitionMapDigest !== expected.partitionMapDigest)
    throw identityError(expected, dir, 'partition_map');
  return false;
}

/** Every account must be one the partition map routes to this shard (checked once, when an
 * older dir's shard gets its identity: after that the map's digest is compared instead). */
export function checkAccountHomes(
  accountIds: Iterable<string>,
  expected: ShardIdentityExpectation,
  dir: string,
): void {
  const home = expected.accountHome;
  if (home === undefined) return;
  for (const accountId of accountIds) {
    const shard = home(accountId);
    if (shard !== expected.shard)
      throw identityError(expected, dir, 'partition_map', { accountId, routedTo: shard });
  }
}

/** Issues the identity's put (inside the caller's write block). */
export function putShardIdentity(meta: MetaStore, identity: ShardIdentity): void {
  const record: ShardIdentity = {
    ledgerId: identity.ledgerId,
    shard: identity.shard,
    partitionMapDigest: identity.partitionMapDigest,
  };
  void meta.put(identityKey, record);
}
