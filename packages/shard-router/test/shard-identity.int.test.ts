// Goal: open refuses a shard that is missing, empty, swapped, from another ledger or under an edited partition map, and never deletes its snapshots. Method: real 2-shard ledgers whose files are deleted, truncated, renamed and copied on disk between opens.
import { existsSync } from 'node:fs';
import { cp, readFile, readdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isLedgerError } from '@shardledger/ledger-core';
import { Ledger } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard } from './ledger-fixtures.js';

let dir: string;
let cleanups: (() => Promise<void>)[] = [];
beforeEach(async () => {
  const made = await tempDir('identity');
  dir = made.dir;
  cleanups = [made.cleanup];
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A closed 2-shard ledger at `at` with an account on each shard, a transfer and a snapshot of
 * every shard. Returns the accounts. */
async function makeLedger(at: string): Promise<string[]> {
  const ledger = await Ledger.open({ dir: at, shards: 2 });
  const accounts = [idOnShard(ledger, 0, 'zero'), idOnShard(ledger, 1, 'one')];
  await ledger.createAccounts(accounts.map((id) => ({ id, currency: 'EUR' })));
  await ledger.createTransfers([
    {
      id: 't-1',
      debitAccountId: accounts[0] as string,
      creditAccountId: accounts[1] as string,
      amount: 5n,
      currency: 'EUR',
    },
  ]);
  await ledger.snapshot();
  await ledger.close();
  return accounts;
}

/** The SHARD_IDENTITY_MISMATCH details an open of `dir` fails with ('opened' if it opens). */
async function refusal(): Promise<string> {
  try {
    const ledger = await Ledger.open({ dir });
    await ledger.close();
    return 'opened';
  } catch (error) {
    if (!isLedgerError(error)) throw error;
    return `${error.code} shard=${String(error.detail['shard'])} problem=${String(error.detail['problem'])}`;
  }
}

async function snapshotsOf(shard: string): Promise<string[]> {
  return (await readdir(join(dir, shard, 'snapshots'))).filter((name) => name.endsWith('.bin'));
}

describe('shard identity on open', () => {
  it('refuses a deleted shard dir instead of creating an empty shard', async () => {
    await makeLedger(dir);
    await rm(join(dir, 'shard-001'), { recursive: true });
    expect(await refusal()).toBe('SHARD_IDENTITY_MISMATCH shard=1 problem=missing');
    expect(existsSync(join(dir, 'shard-001'))).toBe(false);
  });

  it("refuses a deleted events.mdb and keeps the shard's snapshots", async () => {
    await makeLedger(dir);
    const snapshots = await snapshotsOf('shard-001');
    expect(snapshots.length).toBe(1);
    await rm(join(dir, 'shard-001', 'events.mdb'));
    expect(await refusal()).toBe('SHARD_IDENTITY_MISMATCH shard=1 problem=missing');
    expect(await snapshotsOf('shard-001')).toEqual(snapshots);
    expect(existsSync(join(dir, 'shard-001', 'events.mdb'))).toBe(false);
  });

  it("refuses an events.mdb truncated to 0 bytes and keeps the shard's snapshots", async () => {
    await makeLedger(dir);
    const snapshots = await snapshotsOf('shard-000');
    await truncate(join(dir, 'shard-000', 'events.mdb'), 0);
    expect(await refusal()).toBe('SHARD_IDENTITY_MISMATCH shard=0 problem=empty');
    expect(await snapshotsOf('shard-000')).toEqual(snapshots);
  });

  it('refuses swapped shard dirs', async () => {
    await makeLedger(dir);
    await rename(join(dir, 'shard-000'), join(dir, 'swap'));
    await rename(join(dir, 'shard-001'), join(dir, 'shard-000'));
    await rename(join(dir, 'swap'), join(dir, 'shard-001'));
    expect(await refusal()).toMatch(/^SHARD_IDENTITY_MISMATCH shard=[01] problem=swapped$/);
  });

  it('refuses a shard copied from another ledger', async () => {
    await makeLedger(dir);
    const other = await tempDir('identity-other');
    cleanups.push(other.cleanup);
    await makeLedger(other.dir);
    await rm(join(dir, 'shard-001'), { recursive: true });
    await cp(join(other.dir, 'shard-001'), join(dir, 'shard-001'), { recursive: true });
    expect(await refusal()).toBe('SHARD_IDENTITY_MISMATCH shard=1 problem=foreign');
  });

  it('refuses a manifest whose partition map was edited, and opens again once it is restored', async () => {
    const accounts = await makeLedger(dir);
    const path = join(dir, 'manifest.json');
    const original = await readFile(path, 'utf8');
    const manifest = JSON.parse(original) as { partitionMap: number[] };
    // Every partition to the other shard: a valid map, under which every account looks missing.
    manifest.partitionMap = manifest.partitionMap.map((shard) => 1 - shard);
    await writeFile(path, JSON.stringify(manifest));
    expect(await refusal()).toMatch(/^SHARD_IDENTITY_MISMATCH shard=[01] problem=partition_map$/);
    await writeFile(path, original);
    const ledger = await Ledger.open({ dir });
    try {
      const found = await ledger.lookupAccounts(accounts);
      expect(found.map((account) => account?.balance)).toEqual([-5n, 5n]);
    } finally {
      await ledger.close();
    }
  });

  it('finishes creating a ledger whose creation stopped after the manifest was written', async () => {
    await makeLedger(dir);
    // As a crash right after the manifest's rename leaves it: marker and manifest, no shards.
    await rm(join(dir, 'shard-000'), { recursive: true });
    await rm(join(dir, 'shard-001'), { recursive: true });
    await writeFile(
      join(dir, 'SHARDS-CREATING'),
      'shards of a new ledger are being created here\n',
    );
    const ledger = await Ledger.open({ dir });
    await ledger.close();
    expect(existsSync(join(dir, 'SHARDS-CREATING'))).toBe(false);
    await rm(join(dir, 'shard-001'), { recursive: true });
    expect(await refusal()).toBe('SHARD_IDENTITY_MISMATCH shard=1 problem=missing');
  });
});
