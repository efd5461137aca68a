// Goal: a full disk fails writes with STORAGE_FULL and acknowledges nothing that was not written,
// the log never gets a hole, and the same ledger works again once space is freed. Method: a real
// ledger (two shard workers) on a small tmpfs filled up by a file, then the file removed.
import { execFileSync } from 'node:child_process';
import { statfsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, isLedgerError, type TransferInput } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard } from './ledger-fixtures.js';

let mountDir = '';
let cleanupMount: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const { dir, cleanup } = await tempDir('full-disk');
  // Mounting needs root, as the test machines run it; a failure here fails the file.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir]);
  mountDir = dir;
  cleanupMount = async () => {
    execFileSync('umount', [dir]);
    await cleanup();
  };
});

/** Closes a ledger the test left open (after a failed expectation), so that the mount can go. */
let closeOnFailure: () => Promise<void> = async () => undefined;

afterAll(async () => {
  await closeOnFailure().catch(() => undefined);
  await cleanupMount();
});

/** `size` transfers between `pairs`, ids t<from> on. */
function transfers(
  pairs: readonly [string, string][],
  from: number,
  size: number,
): TransferInput[] {
  const batch: TransferInput[] = [];
  for (let index = from; index < from + size; index++) {
    const [debit, credit] = pairs[index % pairs.length] as [string, string];
    batch.push({
      id: `t${String(index).padStart(8, '0')}`,
      debitAccountId: debit,
      creditAccountId: credit,
      amount: 1n,
      currency: 'EUR',
    });
  }
  return batch;
}

describe('a full disk', () => {
  it('fails writes with STORAGE_FULL, leaves no hole in the log, and works again once space is freed', async () => {
    const dataDir = join(mountDir, 'data');
    const filler = join(mountDir, 'filler');
    const ledger = await Ledger.open({ dir: dataDir, shards: 2, snapshotIntervalMs: 0 });
    closeOnFailure = () => ledger.close();
    const taken = new Set<string>();
    const ids = [0, 0, 1, 1].map((shard, index) => idOnShard(ledger, shard, `acct${index}`, taken));
    await ledger.createAccounts(ids.map((id) => ({ id, currency: 'EUR' })));
    const [a0, b0, a1, b1] = ids as [string, string, string, string];
    // Each call stays on one shard, so that its error speaks for the whole call.
    const pairsOf: [string, string][][] = [
      [
        [a0, b0],
        [b0, a0],
      ],
      [
        [a1, b1],
        [b1, a1],
      ],
    ];

    // Leave 512 KiB: a few calls fit, then every commit fails.
    const fs = statfsSync(mountDir);
    await writeFile(filler, Buffer.alloc(Number(fs.bavail * fs.bsize) - 512 * 1024));
    const acked = new Set<string>();
    const failedCalls: { batch: TransferInput[]; code: string }[] = [];
    const errorCodes = new Map<string, number>();
    let next = 0;
    for (let round = 0; round < 40 && (errorCodes.get('STORAGE_FULL') ?? 0) < 20; round++) {
      const calls = [];
      for (let call = 0; call < 6; call++) {
        const batch = transfers(pairsOf[call % 2] as [string, string][], next, 400);
        next += batch.length;
        calls.push(
          ledger.createTransfers(batch).then(
            (results) => {
              for (const result of results) {
                expect(result.status).toBe('ok');
                acked.add(result.id);
              }
            },
            (error: unknown) => {
              const code = isLedgerError(error) ? error.code : String(error);
              errorCodes.set(code, (errorCodes.get(code) ?? 0) + 1);
              failedCalls.push({ batch, code });
            },
          ),
        );
      }
      await Promise.all(calls);
    }
    expect(acked.size).toBeGreaterThan(0);
    expect(errorCodes.get('STORAGE_FULL') ?? 0).toBeGreaterThanOrEqual(20);
    // A call in flight when its shard's worker stopped may get SHARD_UNAVAILABLE; nothing else.
    expect(
      [...errorCodes.keys()].filter(
        (code) => code !== 'STORAGE_FULL' && code !== 'SHARD_UNAVAILABLE',
      ),
    ).toEqual([]);

    // Space freed: the same ledger takes writes again, and retries of the failed calls apply.
    // Nothing of a STORAGE_FULL call was written; a SHARD_UNAVAILABLE call (in flight when its
    // worker stopped) may have been.
    await rm(filler);
    // A worker that stopped while the disk was full may stop once more: its call fails with
    // SHARD_UNAVAILABLE, which the docs say to retry with the same ids (at most twice here).
    let unavailableAfterFree = 0;
    const retried = async (
      batch: TransferInput[],
    ): Promise<Awaited<ReturnType<Ledger['createTransfers']>>> => {
      for (let attempt = 0; ; attempt++) {
        try {
          return await ledger.createTransfers(batch);
        } catch (error) {
          if (!isLedgerError(error, 'SHARD_UNAVAILABLE') || attempt === 2) throw error;
          unavailableAfterFree++;
        }
      }
    };
    for (const { batch, code } of failedCalls) {
      const results = await retried(batch);
      for (const result of results) {
        expect(code === 'STORAGE_FULL' ? ['ok'] : ['ok', 'exists']).toContain(result.status);
        acked.add(result.id);
      }
    }
    const fresh = await ledger.createTransfers([
      ...transfers(pairsOf[0] as [string, string][], next, 50),
      ...transfers(pairsOf[1] as [string, string][], next + 50, 50),
    ]);
    expect(unavailableAfterFree).toBeLessThanOrEqual(2);
    expect(fresh.every((result) => result.status === 'ok')).toBe(true);
    for (const result of fresh) acked.add(result.id);
    expect((await ledger.verify()).ok).toBe(true);
    await ledger.close();
    closeOnFailure = async () => undefined;

    // Reopened: gapless (recovery asserts it), every acknowledged transfer present, balanced.
    const reopened = await Ledger.open({ dir: dataDir });
    try {
      const all = [...acked];
      let missing = 0;
      for (let start = 0; start < all.length; start += 8_000) {
        const found = await reopened.lookupTransfers(all.slice(start, start + 8_000));
        missing += found.filter((transfer) => transfer === undefined).length;
      }
      expect(missing).toBe(0);
      expect((await reopened.verify()).ok).toBe(true);
      const accounts = await reopened.lookupAccounts(ids);
      const posted = accounts.reduce((sum, account) => sum + (account?.debitsPosted ?? 0n), 0n);
      expect(posted).toBe(BigInt(acked.size));
    } finally {
      await reopened.close();
    }
  }, 60_000);
});
