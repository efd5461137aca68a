// Goal: concurrent callers draining a few hot limited accounts never overdraw them; method: 150 concurrent single-transfer calls (same- and cross-shard) on a real 4-shard ledger, checked by balances, results and every history posting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger, type TransferResult } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { idOnShard, ledgerTotals } from './ledger-fixtures.js';

let ledger: Ledger;
let cleanup: () => Promise<void>;
const taken = new Set<string>();

beforeAll(async () => {
  const temp = await tempDir('hot-accounts');
  cleanup = temp.cleanup;
  ledger = await Ledger.open({ dir: temp.dir, shards: 4, durability: 'strict' });
});
afterAll(async () => {
  await ledger?.close();
  await cleanup?.();
});

/** A hot account per shard 0..count-1 (debitsMustNotExceedCredits, funded from a bank on its
 * own shard) and one sink per shard. */
async function setUp(
  prefix: string,
  options: { hotCount: number; funding: bigint },
): Promise<{ hot: string[]; sinks: string[] }> {
  const hot = Array.from({ length: options.hotCount }, (_, shard) =>
    idOnShard(ledger, shard, `${prefix}-hot`, taken),
  );
  const banks = hot.map((_, shard) => idOnShard(ledger, shard, `${prefix}-bank`, taken));
  const sinks = [0, 1, 2, 3].map((shard) => idOnShard(ledger, shard, `${prefix}-sink`, taken));
  const created = await ledger.createAccounts([
    ...hot.map((id) => ({ id, currency: 'USD', debitsMustNotExceedCredits: true })),
    ...[...banks, ...sinks].map((id) => ({ id, currency: 'USD' })),
  ]);
  expect(created.every((result) => result.status === 'ok')).toBe(true);
  const funded = await ledger.createTransfers(
    hot.map((id, shard) => ({
      id: `${prefix}-fund-${shard}`,
      debitAccountId: banks[shard] as string,
      creditAccountId: id,
      amount: options.funding,
      currency: 'USD',
    })),
  );
  expect(funded.every((result) => result.status === 'ok')).toBe(true);
  return { hot, sinks };
}

/** At every posting in the account's history, posted credits covered posted and pending debits. */
async function expectNeverOverdrawn(accountId: string): Promise<number> {
  let postings = 0;
  for (let after: string | null = null; ;) {
    const page = await ledger.accountHistory(accountId, { after, limit: 500 });
    for (const entry of page.entries) {
      postings++;
      expect(
        entry.creditsPosted - entry.debitsPosted - entry.debitsPending,
        `${accountId} at sequence ${entry.sequence}`,
      ).toBeGreaterThanOrEqual(0n);
    }
    if (page.next === null) return postings;
    after = page.next;
  }
}

describe('hot debitsMustNotExceedCredits accounts under concurrent callers', () => {
  it('drains three hot accounts with 150 concurrent single transfers exactly to what they hold, never below zero', async () => {
    const funding = 1_000n;
    const amount = 37n;
    const { hot, sinks } = await setUp('drain', { hotCount: 3, funding });
    const callsPerAccount = 50;
    // Sink i % 4: for each hot account one call in four stays on its shard, three cross shards.
    const calls: { hotIndex: number; promise: Promise<TransferResult> }[] = [];
    for (let index = 0; index < callsPerAccount; index++) {
      hot.forEach((debitAccountId, hotIndex) => {
        const creditAccountId = sinks[(index + hotIndex) % sinks.length] as string;
        calls.push({
          hotIndex,
          promise: ledger.createTransfer({
            id: `drain-${hotIndex}-${index}`,
            debitAccountId,
            creditAccountId,
            amount,
            currency: 'USD',
          }),
        });
      });
    }
    const results = await Promise.all(calls.map((call) => call.promise));
    expect(new Set(results.map((result) => result.status))).toEqual(
      new Set(['ok', 'insufficient_funds']),
    );

    const accounts = await ledger.lookupAccounts(hot);
    hot.forEach((id, hotIndex) => {
      const okCount = BigInt(
        results.filter(
          (result, index) => calls[index]?.hotIndex === hotIndex && result.status === 'ok',
        ).length,
      );
      const account = accounts[hotIndex];
      expect(account?.debitsPosted, `${id}: what left it is ok count x amount`).toBe(
        okCount * amount,
      );
      expect(account?.balance).toBe(funding - okCount * amount);
      expect(account?.balance).toBeGreaterThanOrEqual(0n);
      expect(account?.available).toBeGreaterThanOrEqual(0n);
      expect(account?.debitsPending).toBe(0n);
      // Nothing was refused while the money was there: the account is drained below one amount.
      expect(okCount).toBe(funding / amount);
    });
    for (const id of hot)
      expect(await expectNeverOverdrawn(id)).toBeGreaterThan(Number(funding / amount));
    const credited = (await ledger.lookupAccounts(sinks)).reduce(
      (sum, sink) => sum + (sink?.creditsPosted ?? 0n),
      0n,
    );
    expect(credited).toBe(3n * (funding / amount) * amount);
    expect((await ledger.verify()).ok).toBe(true);
    expect((await ledgerTotals(ledger)).reservationsOpen).toBe(0);
  });

  it('never overdraws hot accounts that pay each other and outsiders concurrently while being refilled', async () => {
    const funding = 100n;
    const { hot, sinks } = await setUp('mesh', { hotCount: 4, funding });
    // Every call moves between hot accounts (mostly cross-shard) or from a hot account to a sink,
    // while the sinks refill random hot accounts: credits arriving through sagas race with debits.
    const calls: Promise<TransferResult>[] = [];
    for (let index = 0; index < 60; index++) {
      const from = hot[index % 4] as string;
      const to =
        index % 3 === 0 ? (sinks[index % 4] as string) : (hot[(index * 7 + 1) % 4] as string);
      if (from !== to)
        calls.push(
          ledger.createTransfer({
            id: `mesh-${index}`,
            debitAccountId: from,
            creditAccountId: to,
            amount: BigInt(20 + (index % 5) * 15),
            currency: 'USD',
          }),
        );
      if (index % 4 === 0) {
        calls.push(
          ledger.createTransfer({
            id: `refill-${index}`,
            debitAccountId: sinks[(index + 1) % 4] as string,
            creditAccountId: hot[(index + 2) % 4] as string,
            amount: 25n,
            currency: 'USD',
          }),
        );
      }
    }
    const results = await Promise.all(calls);
    expect(
      results.every((result) => result.status === 'ok' || result.status === 'insufficient_funds'),
    ).toBe(true);
    expect(results.some((result) => result.status === 'insufficient_funds')).toBe(true);
    for (const account of await ledger.lookupAccounts(hot)) {
      expect(account?.balance).toBeGreaterThanOrEqual(0n);
      expect(account?.available).toBeGreaterThanOrEqual(0n);
      expect(account?.debitsPending).toBe(0n);
    }
    for (const id of hot) await expectNeverOverdrawn(id);
    const report = await ledger.verify();
    expect(report.violations).toEqual([]);
    const totals = await ledgerTotals(ledger);
    expect(totals.debitsPosted).toBe(totals.creditsPosted);
    expect(totals.reservationsOpen).toBe(0);
  });
});
