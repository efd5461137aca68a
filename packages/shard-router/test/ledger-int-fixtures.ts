// Shared setup of the Ledger contract tests: a fresh temp dir per test, ledgers opened on it and
// closed after it, and a seeded set of accounts. Method: every helper drives the real Ledger
// (compiled workers, LMDB); nothing is stubbed.
import { afterEach, beforeEach, expect } from 'vitest';
import { Ledger } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard } from './ledger-fixtures.js';

/** This test's dir, fresh for each test (a live binding: read it inside a test). */
export let dir: string;
let cleanup: () => Promise<void>;
/** The ledgers this test opened and has not closed; closed after each test. */
export const open: Ledger[] = [];

/** Opens a ledger on this test's dir, strict durability, 4 shards unless told. */
export async function openLedger(options: { shards?: number } = { shards: 4 }): Promise<Ledger> {
  const ledger = await Ledger.open({ dir, durability: 'strict', ...options });
  open.push(ledger);
  return ledger;
}

/** Gives each test of the calling file a fresh dir, and closes its ledgers and removes the dir
 * after it. Call it once at the top of the file. */
export function useLedgerDir(): void {
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir('ledger-int'));
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((ledger) => ledger.close()));
    await cleanup();
  });
}

/** Two accounts on shard 0, one on shard 1, one on shard 2, plus a funding account on shard 0. */
export async function seed(
  ledger: Ledger,
): Promise<{ bank: string; a0: string; b0: string; c1: string; d2: string }> {
  const taken = new Set<string>();
  const bank = idOnShard(ledger, 0, 'bank', taken);
  const a0 = idOnShard(ledger, 0, 'acct', taken);
  const b0 = idOnShard(ledger, 0, 'acct', taken);
  const c1 = idOnShard(ledger, 1, 'acct', taken);
  const d2 = idOnShard(ledger, 2, 'acct', taken);
  const results = await ledger.createAccounts([
    { id: bank, currency: 'USD' },
    { id: a0, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: b0, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: c1, currency: 'USD', debitsMustNotExceedCredits: true },
    { id: d2, currency: 'USD' },
  ]);
  expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  return { bank, a0, b0, c1, d2 };
}
