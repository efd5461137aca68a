import assert from 'node:assert/strict';
import { Ledger } from '@shardledger/shard-router';

const ledger = await Ledger.open({ dir: process.env.SHARDLEDGER_DIR ?? './shardledger-data', shards: 2 });
await ledger.createAccounts([
  { id: 'bank', currency: 'USD' },
  { id: 'customer', currency: 'USD', debitsMustNotExceedCredits: true },
  { id: 'merchant', currency: 'USD' },
  { id: 'alice', currency: 'USD' },
]);
await ledger.createTransfer({ id: 'top-up-1', debitAccountId: 'bank', creditAccountId: 'customer', amount: 5000n, currency: 'USD' });

// Authorise: hold 30.00 on the customer's wallet. It stays in the pending columns until posted,
// voided, or voided automatically after timeoutMs.
const hold = await ledger.createTransfer({
  id: 'auth-1', debitAccountId: 'customer', creditAccountId: 'merchant', amount: 3000n, currency: 'USD',
  pending: true, timeoutMs: 7 * 24 * 3_600_000,
});
assert.equal(hold.status, 'ok');
let [customer] = await ledger.lookupAccounts(['customer']);
assert.equal(customer?.debitsPending, 3000n);
assert.equal(customer?.available, 2000n); // balance 5000 less 3000 held

// Capture less than was authorised; the rest of the hold is released.
const [capture] = await ledger.postPendingTransfers([{ id: 'capture-1', pendingId: 'auth-1', amount: 2500n }]);
assert.equal(capture?.status, 'ok');
[customer] = await ledger.lookupAccounts(['customer']);
assert.equal(customer?.balance, 2500n);
assert.equal(customer?.debitsPending, 0n);

// A hold is resolved once: voiding it now is refused.
const [late] = await ledger.voidPendingTransfers([{ id: 'void-1', pendingId: 'auth-1' }]);
assert.equal(late?.status, 'pending_already_posted');

// A hold between accounts of two shards works the same way (a reserve/commit saga that stops
// after its reservations, until the post or void; the debit side's shard decides).
assert.notEqual(ledger.shardOf('customer'), ledger.shardOf('alice'));
const crossShard = await ledger.createTransfer({
  id: 'auth-2', debitAccountId: 'customer', creditAccountId: 'alice', amount: 100n, currency: 'USD', pending: true,
});
assert.equal(crossShard.status, 'ok');
const [released] = await ledger.voidPendingTransfers([{ id: 'void-2', pendingId: 'auth-2' }]);
assert.equal(released?.status, 'ok');
const [alice] = await ledger.lookupAccounts(['alice']);
assert.equal(alice?.creditsPending, 0n);

// Not in an atomic group, though: a group with a pending transfer across shards is refused whole.
const group = await ledger.createAtomicGroup([
  { id: 'auth-3', debitAccountId: 'customer', creditAccountId: 'alice', amount: 100n, currency: 'USD', pending: true },
]);
assert.equal(group[0]?.status, 'cross_shard_pending_unsupported');
await ledger.close();
