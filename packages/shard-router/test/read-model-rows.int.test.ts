// Goal: a transfer that posts is stored as one row carrying both accounts' counters after it, and
// statements, running balances and balances as of a time are served from those rows exactly as
// the write side's account history has them.
// Method: a real one-shard ledger in a temp dir (transfers, a hold posted for less, a hold voided),
// projected by a ReadModel; its tables read with SQLite, its answers compared with the Ledger's.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '@shardledger/ledger-core/testing';
import { Ledger } from '../src/index.js';
import { ReadModel } from '../src/read-model/index.js';

let cleanup: () => Promise<void>;
let ledger: Ledger;
let model: ReadModel;

beforeAll(async () => {
  const made = await tempDir('read-model-rows');
  cleanup = made.cleanup;
  ledger = await Ledger.open({ dir: made.dir, shards: 1 });
  await ledger.createAccounts(['a', 'b', 'c'].map((id) => ({ id, currency: 'USD' })));
  const transfers = [
    { id: 't-1', debitAccountId: 'a', creditAccountId: 'b', amount: 100n, currency: 'USD' },
    { id: 't-2', debitAccountId: 'b', creditAccountId: 'c', amount: 40n, currency: 'USD' },
    { id: 'h-1', debitAccountId: 'c', creditAccountId: 'a', amount: 30n, currency: 'USD' },
    { id: 'h-2', debitAccountId: 'a', creditAccountId: 'b', amount: 5n, currency: 'USD' },
  ].map((transfer) => ({ ...transfer, pending: transfer.id.startsWith('h-') }));
  for (const transfer of transfers)
    expect((await ledger.createTransfers([transfer]))[0]?.status).toBe('ok');
  const resolved = [
    ...(await ledger.postPendingTransfers([{ id: 'p-1', pendingId: 'h-1', amount: 20n }])),
    ...(await ledger.voidPendingTransfers([{ id: 'v-1', pendingId: 'h-2' }])),
    ...(await ledger.createTransfers([
      { id: 't-3', debitAccountId: 'c', creditAccountId: 'b', amount: 7n, currency: 'USD' },
    ])),
  ];
  expect(resolved.map((result) => result.status)).toEqual(['ok', 'ok', 'ok']);
  model = await ReadModel.open({ ledger, path: join(made.dir, 'rm.sqlite'), follow: false });
  await model.catchUp({ timeoutMs: 15_000 });
}, 60_000);

afterAll(async () => {
  await model?.close();
  await ledger?.close();
  await cleanup?.();
});

describe('read-model rows', () => {
  it('stores each posting transfer as one row with both accounts counters, and no entries rows', () => {
    const rows = model.db
      .prepare(
        'SELECT id, debit_debits_posted, debit_credits_posted, credit_debits_posted, ' +
          'credit_credits_posted FROM transfers ORDER BY id',
      )
      .raw(true)
      .all();
    // a: -100 (t-1), +20 (p-1). b: +100 (t-1), -40 (t-2), +7 (t-3). c: +40 (t-2), -20, -7.
    expect(rows).toEqual([
      ['h-1', null, null, null, null],
      ['h-2', null, null, null, null],
      ['p-1', '20', '40', '100', '20'],
      ['t-1', '100', '0', '0', '100'],
      ['t-2', '40', '100', '0', '40'],
      ['t-3', '27', '40', '40', '107'],
      ['v-1', null, null, null, null],
    ]);
    expect(model.db.prepare('SELECT count(*) AS n FROM entries').get()).toEqual({ n: 0 });
  });

  it('serves statements and balances as of a time as the ledger history has them', async () => {
    for (const accountId of ['a', 'b', 'c']) {
      const history = await ledger.accountHistory(accountId);
      const statement = model.statement({ accountId, limit: 2 });
      const all = [...statement.entries];
      let after = statement.next;
      while (after !== null) {
        const page = model.statement({ accountId, limit: 2, after });
        all.push(...page.entries);
        after = page.next;
      }
      const posted = history.entries.filter((entry, index, list) => {
        const before = list[index - 1];
        return (
          entry.debitsPosted !== (before?.debitsPosted ?? 0n) ||
          entry.creditsPosted !== (before?.creditsPosted ?? 0n)
        );
      });
      expect(
        all.map((entry) => [entry.debitsPosted, entry.creditsPosted, entry.timestamp]),
      ).toEqual(posted.map((entry) => [entry.debitsPosted, entry.creditsPosted, entry.timestamp]));
      for (const entry of history.entries) {
        const at = { timestamp: entry.timestamp };
        expect(model.balanceAsOf(accountId, at)).toEqual(await ledger.balanceAsOf(accountId, at));
      }
    }
  });
});
