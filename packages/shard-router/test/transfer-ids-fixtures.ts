// Shared setup of the transfer id tests: real 4-shard ledgers on temp dirs, closed and removed
// after each test, accounts placed on every shard, and a check that the books still balance.
// Method: every helper drives the real Ledger (compiled workers, LMDB); nothing is stubbed.
import { afterEach, expect } from 'vitest';
import { Ledger } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard, ledgerTotals } from './ledger-fixtures.js';

/** What to undo after the test: ledgers to close (first) and dirs to remove. */
export const cleanups: (() => Promise<void>)[] = [];

/** Undoes the test's cleanups after each test of the calling file. Call it once at the top. */
export function useCleanups(): void {
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
  });
}

export async function openLedger(dir?: string): Promise<{ ledger: Ledger; dir: string }> {
  let path = dir;
  if (path === undefined) {
    const made = await tempDir('ids');
    cleanups.push(made.cleanup);
    path = made.dir;
  }
  const ledger = await Ledger.open({ dir: path, shards: 4, durability: 'relaxed' });
  cleanups.unshift(() => ledger.close());
  return { ledger, dir: path };
}

/** Two accounts on each of the 4 shards (`s<shard>a`, `s<shard>b`) and a funded wallet on shard 3. */
export async function seed(
  ledger: Ledger,
): Promise<{ on: (shard: number) => [string, string]; wallet: string; bank: string }> {
  const taken = new Set<string>();
  const pairs = [0, 1, 2, 3].map((shard): [string, string] => [
    idOnShard(ledger, shard, `s${shard}a`, taken),
    idOnShard(ledger, shard, `s${shard}b`, taken),
  ]);
  const bank = idOnShard(ledger, 3, 'bank', taken);
  const wallet = idOnShard(ledger, 3, 'wallet', taken);
  const accounts = [...pairs.flat(), bank].map((id) => ({ id, currency: 'USD' }));
  const created = await ledger.createAccounts([
    ...accounts,
    { id: wallet, currency: 'USD', debitsMustNotExceedCredits: true },
  ]);
  expect(created.every((result) => result.status === 'ok')).toBe(true);
  return { on: (shard) => pairs[shard] as [string, string], wallet, bank };
}

export async function expectClean(ledger: Ledger): Promise<void> {
  const report = await ledger.verify();
  expect(report.violations).toEqual([]);
  const totals = await ledgerTotals(ledger);
  expect(totals.debitsPosted).toBe(totals.creditsPosted);
  expect(totals.reservationsOpen).toBe(0);
}
