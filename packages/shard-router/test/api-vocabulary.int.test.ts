// Goal: the Ledger and the read model speak one API: the same pages, cursors, limits and shapes.
// Method: a real 2-shard ledger in a temp dir with a read model caught up to it; every paged list
// of both is read to the end, page by page, and the answers of both to the same data compared.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger, limits, pageSizeDefault } from '../src/index.js';
import { errorCodeOfCall } from './ledger-fixtures.js';
import { ReadModel } from '../src/read-model/index.js';

const accountCount = 23;
const payments = 31;
let cleanup: () => Promise<void>;
let ledger: Ledger;
let model: ReadModel;
const ids = Array.from(
  { length: accountCount },
  (_, index) => `acct-${String(index).padStart(3, '0')}`,
);

/** Every item of a paged list, page by page: each page at most `limit`, `next` null at the end. */
async function readAll<T>(
  read: (after: string | null) => Promise<{ items: readonly T[]; next: string | null }>,
  limit: number,
): Promise<T[]> {
  const items: T[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1_000; pages += 1) {
    const page = await read(after);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    items.push(...page.items);
    if (page.next === null) return items;
    expect(typeof page.next).toBe('string');
    expect(page.items.length).toBe(limit);
    after = page.next;
  }
  throw new Error('no last page');
}

beforeAll(async () => {
  const made = await tempDir('api-vocabulary');
  cleanup = made.cleanup;
  ledger = await Ledger.open({ dir: made.dir, shards: 2 });
  await ledger.createAccounts(
    ids.map((id, index) => ({ id, currency: index % 3 === 0 ? 'EUR' : 'USD', history: true })),
  );
  const usd = ids.filter((_, index) => index % 3 !== 0);
  const results = await ledger.createTransfers(
    Array.from({ length: payments }, (_, n) => ({
      id: `pay-${n}`,
      debitAccountId: usd[0] as string,
      creditAccountId: usd[1 + (n % 3)] as string,
      amount: BigInt(n + 1),
      currency: 'USD',
    })),
  );
  expect(results.every((result) => result.status === 'ok')).toBe(true);
  // Holds on one shard and across shards: two posted (one in part), two voided, two left open.
  const holds = await ledger.createTransfers(
    Array.from({ length: 6 }, (_, n) => ({
      id: `hold-${n}`,
      debitAccountId: usd[2 + (n % 2)] as string,
      creditAccountId: usd[5 + (n % 3)] as string,
      amount: 50n,
      currency: 'USD',
      pending: true,
    })),
  );
  expect(holds.every((result) => result.status === 'ok')).toBe(true);
  const posts = await ledger.postPendingTransfers([
    { id: 'post-0', pendingId: 'hold-0' },
    { id: 'post-1', pendingId: 'hold-1', amount: 20n },
  ]);
  const voids = await ledger.voidPendingTransfers([
    { id: 'void-2', pendingId: 'hold-2' },
    { id: 'void-3', pendingId: 'hold-3' },
  ]);
  expect([...posts, ...voids].every((result) => result.status === 'ok')).toBe(true);
  await ledger.freezeAccount(usd[4] as string);
  model = await ReadModel.open({ ledger, follow: false });
  await model.catchUp({ timeoutMs: 15_000 });
}, 60_000);

afterAll(async () => {
  await model?.close();
  await ledger?.close();
  await cleanup?.();
});

describe('one API vocabulary', () => {
  it('pages listAccounts on the Ledger and the read model alike: every account once, in order', async () => {
    for (const limit of [1, 4, 23, 100]) {
      const fromLedger = await readAll(async (after) => {
        const page = await ledger.listAccounts({ after, limit });
        return { items: page.accounts, next: page.next };
      }, limit);
      const fromModel = await readAll(async (after) => {
        const page = model.listAccounts({ after, limit });
        return { items: page.accounts, next: page.next };
      }, limit);
      expect(fromLedger.map((account) => account.id)).toEqual(ids);
      expect(fromModel).toEqual(fromLedger);
    }
    const eur = model.listAccounts({ currency: 'EUR' });
    expect(eur).toMatchObject(await ledger.listAccounts({ currency: 'EUR' }));
    expect(eur.accounts.every((account) => account.currency === 'EUR')).toBe(true);
  });

  it('pages history and statement with the same cursor semantics: every posting once, in order', async () => {
    const payer = ids[1] as string;
    for (const limit of [1, 7, 31, 32]) {
      const history = await readAll(async (after) => {
        const page = await ledger.accountHistory(payer, { after, limit });
        return { items: page.entries, next: page.next };
      }, limit);
      const statement = await readAll(async (after) => {
        const page = model.statement({ accountId: payer, after, limit });
        return { items: page.entries, next: page.next };
      }, limit);
      // In the order the payer's shard logged them (a payment to another shard when its saga
      // committed), each once, on both sides.
      const expected = Array.from({ length: payments }, (_, n) => `pay-${n}`);
      const historyIds = history.map((entry) => entry.transferId);
      expect([...historyIds].sort()).toEqual([...expected].sort());
      expect(statement.map((entry) => entry.transferId)).toEqual(historyIds);
      expect(statement.map((entry) => entry.debitsPosted)).toEqual(
        history.map((entry) => entry.debitsPosted),
      );
    }
  });

  it('answers lookupAccounts, lookupTransfers and balanceAsOf with the same shapes', async () => {
    const asked = [...ids, 'nobody'];
    expect(model.lookupAccounts(asked)).toEqual(await ledger.lookupAccounts(asked));
    const frozen = model.lookupAccounts([ids[7] as string])[0];
    expect(frozen?.status).toBe('frozen');
    const transferIds = [
      'pay-0',
      'pay-17',
      'hold-0',
      'hold-1',
      'hold-2',
      'hold-5',
      'post-1',
      'void-2',
      'nothing',
    ];
    expect(model.lookupTransfers(transferIds)).toEqual(await ledger.lookupTransfers(transferIds));
    // At every change of every account, by sequence and by timestamp: the same account.
    let compared = 0;
    for (const id of ids) {
      const history = await ledger.accountHistory(id, { limit: 1_000 });
      for (const entry of history.entries) {
        for (const at of [{ sequence: entry.sequence }, { timestamp: entry.timestamp }]) {
          const live = await ledger.balanceAsOf(id, at);
          expect(live).toBeDefined();
          expect(model.balanceAsOf(id, at)).toEqual(live);
          compared += 1;
        }
      }
      expect(model.balanceAsOf(id)).toEqual(await ledger.balanceAsOf(id));
    }
    expect(compared).toBeGreaterThan(2 * (payments * 2 + 6 * 2));
    expect(model.balanceAsOf(ids[1] as string, { timestamp: 0n })).toBeUndefined();
    expect(await ledger.balanceAsOf(ids[1] as string, { timestamp: 0n })).toBeUndefined();
  });

  it('has one default page size and refuses a page above limits.pageSizeMax on every list', async () => {
    expect(pageSizeDefault).toBe(100);
    const over = { limit: limits.pageSizeMax + 1 };
    const calls: (() => unknown)[] = [
      () => ledger.listAccounts(over),
      () => ledger.accountHistory(ids[1] as string, over),
      () => model.listAccounts(over),
      () => model.statement({ accountId: ids[1] as string, ...over }),
      () => model.transfersByMetadata({ key: 'k', value: 'v', ...over }),
      () => ledger.accountHistory(ids[1] as string, { after: 'not-a-cursor' }),
      () => model.statement({ accountId: ids[1] as string, after: 'not-a-cursor' }),
    ];
    for (const call of calls) expect(await errorCodeOfCall(call)).toBe('INVALID_ARGUMENT');
    const all = await ledger.accountHistory(ids[1] as string);
    expect(all.entries.length).toBe(payments);
    expect(model.statement({ accountId: ids[1] as string }).entries.length).toBe(payments);
  });
});
