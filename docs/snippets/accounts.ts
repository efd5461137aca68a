import assert from 'node:assert/strict';
import { Ledger } from '@shardledger/shard-router';

const ledger = await Ledger.open({
  dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data',
  shards: 2,
});
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  ...['ann', 'bea', 'cy', 'dee', 'eve'].map((id) => ({ id, currency: 'USD' })),
  { id: 'fritz', currency: 'EUR' },
]);

// Every account, in id order, a page at a time: `next` is the cursor of the next page.
const ids: string[] = [];
let after: string | null = null;
do {
  const page = await ledger.listAccounts({ after, limit: 4 });
  ids.push(...page.accounts.map((account) => account.id));
  after = page.next;
} while (after !== null);
assert.deepEqual(ids, ['ann', 'bank', 'bea', 'cy', 'dee', 'eve', 'fritz']);
const euros = await ledger.listAccounts({ currency: 'EUR' });
assert.deepEqual(
  euros.accounts.map((account) => account.id),
  ['fritz'],
);

// A frozen account takes part in no new transfer until it is unfrozen.
await ledger.createTransfer({
  id: 'pay-1',
  debitAccountId: 'bank',
  creditAccountId: 'ann',
  amount: 500n,
  currency: 'USD',
});
assert.equal((await ledger.freezeAccount('ann')).status, 'ok');
const refused = await ledger.createTransfer({
  id: 'pay-2',
  debitAccountId: 'ann',
  creditAccountId: 'bea',
  amount: 100n,
  currency: 'USD',
});
assert.equal(refused.status, 'account_frozen');
assert.equal((await ledger.unfreezeAccount('ann')).status, 'ok');

// Only an account with a zero balance and nothing pending is closed, and then for good.
assert.equal((await ledger.closeAccount('ann')).status, 'account_balance_not_zero');
await ledger.createTransfer({
  id: 'pay-3',
  debitAccountId: 'ann',
  creditAccountId: 'bank',
  amount: 500n,
  currency: 'USD',
});
assert.equal((await ledger.closeAccount('ann')).status, 'ok');
const [ann] = await ledger.lookupAccounts(['ann']);
assert.equal(ann?.status, 'closed');
await ledger.close();
