import assert from 'node:assert/strict';
import { Ledger } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'customer', currency: 'USD', debitsMustNotExceedCredits: true },
  { id: 'seller-1', currency: 'USD' },
  { id: 'seller-2', currency: 'USD' },
  { id: 'fees', currency: 'USD' },
]);
await ledger.createTransfer({ id: 'top-up-1', debitAccountId: 'bank', creditAccountId: 'customer', amount: 10_000n, currency: 'USD' });

// One checkout pays two sellers and a fee: all three are applied, or none is.
const checkout = (order: string, [first, second, fee]: bigint[]) => [
  { id: `${order}/seller-1`, debitAccountId: 'customer', creditAccountId: 'seller-1', amount: first ?? 0n, currency: 'USD' },
  { id: `${order}/seller-2`, debitAccountId: 'customer', creditAccountId: 'seller-2', amount: second ?? 0n, currency: 'USD' },
  { id: `${order}/fee`, debitAccountId: 'customer', creditAccountId: 'fees', amount: fee ?? 0n, currency: 'USD' },
];
const paid = await ledger.createAtomicGroup(checkout('order-1', [7_500n, 2_000n, 300n]));
assert.deepEqual(paid.map((result) => result.status), ['ok', 'ok', 'ok']);

// The next checkout cannot be paid in full (200 left): nothing moves, each result says why.
const refused = await ledger.createAtomicGroup(checkout('order-2', [100n, 50n, 100n]));
assert.deepEqual(
  refused.map((result) => result.status),
  ['linked_transfer_failed', 'linked_transfer_failed', 'insufficient_funds'],
);
const [customer] = await ledger.lookupAccounts(['customer']);
assert.equal(customer?.balance, 200n);
assert.ok((await ledger.verify()).ok);
await ledger.close();
