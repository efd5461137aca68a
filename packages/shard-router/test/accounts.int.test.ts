// Goal: listing accounts page by page from the shards' account index, and freezing and closing
// accounts, through a real Ledger of 1 and of 2 shards: transfers on one shard and between
// shards (sagas, cross-shard holds) respect the status, and a reopened ledger gives the same
// pages and statuses. Method: real worker threads and temp dirs; verify() after each story.
import { afterEach, describe, expect, it } from 'vitest';
import { Ledger, type Account } from '../src/index.js';
import { tempDir } from '@shardledger/ledger-core/testing';
import { errorCodeOf, idOnShard } from './ledger-fixtures.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function openLedger(shards: number, dir?: string): Promise<{ ledger: Ledger; dir: string }> {
  let path = dir;
  if (path === undefined) {
    const made = await tempDir('accounts');
    cleanups.push(made.cleanup);
    path = made.dir;
  }
  const ledger = await Ledger.open({ dir: path, shards });
  cleanups.unshift(() => ledger.close());
  return { ledger, dir: path };
}

/** Every page of listAccounts, walked with its `next` cursor. */
async function walk(
  ledger: Ledger,
  options: { limit: number; currency?: string },
): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page = await ledger.listAccounts({ ...options, after });
    pages += 1;
    expect(page.accounts.length).toBeLessThanOrEqual(options.limit);
    ids.push(...page.accounts.map((account: Account) => account.id));
    if (page.next === null) break;
    expect(page.next).toBe(page.accounts[page.accounts.length - 1]?.id);
    after = page.next;
  }
  return { ids, pages };
}

const ascending = (ids: string[]): string[] =>
  [...ids].sort((left, right) => (left < right ? -1 : left > right ? 1 : 0));

describe.each([1, 2])('listAccounts with %i shard(s)', (shards) => {
  it('pages every account once in id order, merged across shards, filtered by currency', async () => {
    const { ledger } = await openLedger(shards);
    const inputs = Array.from({ length: 250 }, (_, index) => ({
      id: `acct-${(index * 97) % 250}`,
      currency: index % 5 === 0 ? 'EUR' : 'USD',
    }));
    await ledger.createAccounts(inputs);
    const all = await walk(ledger, { limit: 40 });
    expect(all.ids).toEqual(ascending(inputs.map((input) => input.id)));
    expect(all.pages).toBe(7);
    const euros = await walk(ledger, { limit: 7, currency: 'EUR' });
    expect(euros.ids).toEqual(
      ascending(inputs.filter((input) => input.currency === 'EUR').map((input) => input.id)),
    );
    const first = await ledger.listAccounts();
    expect(first.accounts).toHaveLength(100);
    expect(first.accounts[0]).toMatchObject({ id: 'acct-0', status: 'open', balance: 0n });
    expect(await ledger.listAccounts({ after: 'acct-99', limit: 5 })).toMatchObject({
      accounts: [],
      next: null,
    });
    expect((await ledger.listAccounts({ currency: 'GBP' })).accounts).toEqual([]);
  });

  it('refuses a limit above limits.pageSizeMax or below 1, a bad cursor and a bad currency', async () => {
    const { ledger } = await openLedger(shards);
    expect(await errorCodeOf(ledger.listAccounts({ limit: 10_001 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.listAccounts({ limit: 0 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.listAccounts({ limit: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.listAccounts({ after: '' }))).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(ledger.listAccounts({ currency: 'usd' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('freezing and closing accounts', () => {
  it('applies freeze, unfreeze and close on one shard, with their result codes', async () => {
    const { ledger } = await openLedger(1);
    await ledger.createAccounts([
      { id: 'bank', currency: 'USD' },
      { id: 'alice', currency: 'USD' },
      { id: 'bob', currency: 'USD' },
    ]);
    await ledger.createTransfers([
      { id: 't1', debitAccountId: 'bank', creditAccountId: 'alice', amount: 10n, currency: 'USD' },
    ]);
    expect(await ledger.freezeAccounts(['alice', 'alice', 'nobody', ''])).toEqual([
      { id: 'alice', status: 'ok' },
      { id: 'alice', status: 'exists' },
      { id: 'nobody', status: 'account_not_found' },
      { id: '', status: 'invalid_id' },
    ]);
    const refused = await ledger.createTransfers([
      { id: 't2', debitAccountId: 'alice', creditAccountId: 'bob', amount: 1n, currency: 'USD' },
      { id: 't3', debitAccountId: 'bank', creditAccountId: 'alice', amount: 1n, currency: 'USD' },
      { id: 't4', debitAccountId: 'bank', creditAccountId: 'bob', amount: 1n, currency: 'USD' },
    ]);
    expect(refused.map((result) => result.status)).toEqual([
      'account_frozen',
      'account_frozen',
      'ok',
    ]);
    expect(await ledger.closeAccount('alice')).toEqual({
      id: 'alice',
      status: 'account_balance_not_zero',
    });
    expect(await ledger.unfreezeAccount('alice')).toEqual({ id: 'alice', status: 'ok' });
    await ledger.createTransfers([
      { id: 't5', debitAccountId: 'alice', creditAccountId: 'bank', amount: 10n, currency: 'USD' },
    ]);
    expect(await ledger.closeAccount('alice')).toEqual({ id: 'alice', status: 'ok' });
    expect(await ledger.closeAccount('alice')).toEqual({ id: 'alice', status: 'exists' });
    expect(await ledger.freezeAccount('alice')).toEqual({ id: 'alice', status: 'account_closed' });
    const [closed] = await ledger.lookupAccounts(['alice']);
    expect(closed).toMatchObject({ status: 'closed', balance: 0n });
    const late = await ledger.createTransfer({
      id: 't6',
      debitAccountId: 'bank',
      creditAccountId: 'alice',
      amount: 1n,
      currency: 'USD',
    });
    expect(late.status).toBe('account_closed');
    expect((await ledger.verify()).ok).toBe(true);
  });

  it('refuses sagas and cross-shard hold posts of a frozen account on either shard, voids the holds, and reopens the same', async () => {
    const { ledger, dir } = await openLedger(2);
    const taken = new Set<string>();
    const bank = idOnShard(ledger, 0, 'bank', taken);
    const payer = idOnShard(ledger, 0, 'payer', taken);
    const shop = idOnShard(ledger, 1, 'shop', taken);
    await ledger.createAccounts([bank, payer, shop].map((id) => ({ id, currency: 'EUR' })));
    const move = (id: string, from: string, to: string, pending = false): Promise<string> =>
      ledger
        .createTransfer({
          id,
          debitAccountId: from,
          creditAccountId: to,
          amount: 5n,
          currency: 'EUR',
          pending,
        })
        .then((result) => result.status);
    expect(await move('fund', bank, payer)).toBe('ok');
    expect(await move('hold-1', payer, shop, true)).toBe('ok');
    expect(await move('hold-2', payer, shop, true)).toBe('ok');
    // The credit side's shard refuses its reservation: the saga rolls back.
    expect((await ledger.freezeAccount(shop)).status).toBe('ok');
    expect(await move('pay-1', payer, shop)).toBe('account_frozen');
    // The credit account is on the other shard: the router refuses the post.
    const postOf = (id: string, pendingId: string): Promise<string> =>
      ledger.postPendingTransfers([{ id, pendingId }]).then(([result]) => result?.status ?? '');
    expect(await postOf('post-1', 'hold-1')).toBe('account_frozen');
    expect((await ledger.unfreezeAccount(shop)).status).toBe('ok');
    // The debit side's shard refuses the saga, and the post of a hold decided there.
    expect((await ledger.freezeAccount(payer)).status).toBe('ok');
    expect(await move('pay-2', payer, shop)).toBe('account_frozen');
    expect(await postOf('post-2', 'hold-2')).toBe('account_frozen');
    const [voided] = await ledger.voidPendingTransfers([{ id: 'void-1', pendingId: 'hold-1' }]);
    expect(voided?.status).toBe('ok');
    expect((await ledger.unfreezeAccount(payer)).status).toBe('ok');
    expect(await postOf('post-3', 'hold-2')).toBe('ok');
    expect((await ledger.closeAccount(shop)).status).toBe('account_balance_not_zero');
    expect(await move('refund', shop, payer)).toBe('ok');
    expect((await ledger.closeAccount(shop)).status).toBe('ok');
    expect(await move('pay-3', payer, shop)).toBe('account_closed');
    expect((await ledger.freezeAccount(payer)).status).toBe('ok');
    expect((await ledger.verify()).ok).toBe(true);

    const before = {
      accounts: await ledger.lookupAccounts([bank, payer, shop]),
      page: await ledger.listAccounts({ limit: 2 }),
    };
    await ledger.close();
    const reopened = await openLedger(2, dir);
    expect(await reopened.ledger.lookupAccounts([bank, payer, shop])).toEqual(before.accounts);
    expect(await reopened.ledger.listAccounts({ limit: 2 })).toEqual(before.page);
    expect(before.accounts.map((account) => account?.status)).toEqual(['open', 'frozen', 'closed']);
    expect(await transferOne(reopened.ledger, payer, bank)).toBe('account_frozen');
    expect((await reopened.ledger.verify()).ok).toBe(true);
  });
});

async function transferOne(ledger: Ledger, from: string, to: string): Promise<string> {
  const result = await ledger.createTransfer({
    id: 'after-reopen',
    debitAccountId: from,
    creditAccountId: to,
    amount: 1n,
    currency: 'EUR',
  });
  return result.status;
}
