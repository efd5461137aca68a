import assert from 'node:assert/strict';
import { Ledger, ReadModel } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'carol', currency: 'USD' },
]);
for (const n of [1, 2, 3]) {
  await ledger.createTransfer({
    id: `order-${n}`, debitAccountId: 'bank', creditAccountId: 'carol', amount: 250n, currency: 'USD',
    metadata: { payment_order_id: 'PO-7' },
  });
}

// The read model projects the ledger's logs into a SQLite file next to them.
const model = await ReadModel.open({ ledger });
await model.catchUp(); // read-your-writes: wait until every shard's last event is projected

// The Ledger's queries, with the same arguments and the same results.
assert.deepEqual(model.lookupAccounts(['carol', 'nobody']), await ledger.lookupAccounts(['carol', 'nobody']));
assert.deepEqual(model.lookupTransfers(['order-2']), await ledger.lookupTransfers(['order-2']));
const [order2] = await ledger.lookupTransfers(['order-2']);
const asOf = { timestamp: order2?.timestamp ?? 0n };
assert.deepEqual(model.balanceAsOf('carol', asOf), await ledger.balanceAsOf('carol', asOf));
assert.equal(model.balanceAsOf('carol', asOf)?.balance, 500n);

// Every list pages the same way, on the ledger and on the read model.
const entries: string[] = [];
let after: string | null = null;
do {
  const page = model.statement({ accountId: 'carol', after, limit: 2 });
  entries.push(...page.entries.map((entry) => `${entry.transferId} ${entry.balance}`));
  after = page.next;
} while (after !== null);
assert.deepEqual(entries, ['order-1 250', 'order-2 500', 'order-3 750']);

// What only the read model answers: transfers by metadata, totals per currency.
const found = model.transfersByMetadata({ key: 'payment_order_id', value: 'PO-7' });
assert.deepEqual(found.transfers.map((transfer) => transfer.id), ['order-1', 'order-2', 'order-3']);
assert.equal(found.next, null);
await model.close();
await ledger.close();
